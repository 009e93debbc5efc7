// Package loginbench measures password logins against the real sesame
// binary: bursts of concurrent login attempts (refusal latency, peak and
// idle resident memory of the server process). It holds only benchmarks;
// the whole flow against raw argon2id is idp's BenchmarkFlowVsArgon2id.
package loginbench
