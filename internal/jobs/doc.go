// Package jobs is sesame's durable job queue: the scheduling policy over the
// store's jobs table. Producers enqueue jobs (Enqueue) in the transaction of
// the change that needs them; a Runner claims due jobs of the kinds it has
// handlers for, runs them under a lease on workers of their sink (the part
// of the kind before the dot: one sink that hangs never holds another's
// workers), and completes them, retries them with exponential backoff and
// jitter, or buries them (state dead, kept for admins) after MaxAttempts or
// a Permanent error.
//
// Kinds registered with HandleBatch get their jobs in batches; kinds
// registered with HandleBatchPrepared also get them in two steps, a read
// and the work, and while all of a sink's workers are busy the runner
// claims the next round of such batches and runs their reads, so that the
// next batch starts its work (an LDAP directory's writes, say) the moment a
// worker frees instead of after a claim and a read of the store.
//
// Delivery is at least once: a worker that dies mid-job leaves its lease to
// expire, and the job is then claimed again, so handlers must be
// idempotent. The job kinds and their payloads, shared by producers and
// handlers, are in kinds.go.
package jobs
