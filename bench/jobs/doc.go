// Package jobsbench measures the job runner on trivial jobs against the
// store's raw single-row commit rate, on SQLite and PostgreSQL. It holds
// only benchmarks:
//
//	go test -run '^$' -bench . -benchtime=10000x -timeout 30m ./bench/jobs/
package jobsbench
