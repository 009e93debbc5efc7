// Package mailbench measures activation emails from the job queue to a
// real mailpit against a plain net/smtp loop sending the same count of the
// same message to the same mailpit in the same run. It holds only
// benchmarks:
//
//	go test -run '^$' -bench . -benchtime=10000x -timeout 60m ./bench/mail/
package mailbench
