// Package limitsbench measures the rate limits shared by replicas
// (store.Limits, web.SharedLimiter) against references measured in the
// same run: a bare round trip to the same database (Ping), the in-process
// limiter, and one argon2id hash (what a login attempt costs anyway).
//
//	go test ./bench/limits/ -run '^$' -bench . -count 2
package limitsbench
