// Package provisionbench measures the WordPress provisioning connector
// against a plain loop of REST calls on the same real WordPress. It holds
// only benchmarks; see README.md.
package provisionbench
