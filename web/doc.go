// Package web owns sesame's HTTP face for people: the embedded templates and
// static files (every template parsed at start-up), the French and English
// catalogues, the middleware (security headers, CSRF on sesame's own forms,
// sessions, rate limits, request logging), the one function that turns an
// error into an HTTP response, the account pages (activation, password
// reset) and the administration pages, and the health endpoints (/healthz,
// /readyz).
//
// Handlers are structs with explicit dependency fields and a Mount method;
// cmd/sesame wires them all onto one mux.
package web
