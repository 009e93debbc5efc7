// Package storetest is the store's conformance suite: Run exercises every
// method of store.Store against a real backend, and is called from the
// tests of each backend (internal/store/sqlite, internal/store/postgres).
// A behaviour is the store's only when every backend passes it.
package storetest
