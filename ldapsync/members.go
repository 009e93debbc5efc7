package ldapsync

import (
	"sync"
	"time"
)

// memberWriter coalesces the member changes that concurrent batches of
// people (ConvergePeople calls: the job runner runs several ldap.person
// batches at once) make to the same group. Every modify of a group rewrites
// the whole entry in slapd's database, and a group of thousands of members
// is a large entry: with one modify per group and batch, a 10,000-person
// import rewrote each of its groups twenty times or more, and the pages
// those rewrites freed made every later commit of the directory dearer
// (its database grew 40 % larger than ldapadd's of the same entries). Here
// one writer at a time holds a group; the changes other batches hand in
// meanwhile wait, and the next of them to hold the group writes them all
// in one modify (as a database's group commit does). The writer of a
// group also waits, up to memberLinger, while other calls are still
// writing their people's entries (their tickets not yet used): the job
// runner starts its batches together, and their changes then go in one
// modify a group instead of two. It waits only for the calls of its own
// round (generation): those that started before any of them was done with
// its entries. A call that starts later (the runner's next batch, started
// the moment a worker frees) is the next round, which this one's group
// writes do not wait for. Each caller returns once its own changes are
// written, with their outcome. The zero value is ready to use.
type memberWriter struct {
	mu     sync.Mutex
	groups map[string]*groupQueue // by dnKey of the group
	// byGen counts the tickets not yet used (calls still writing
	// entries) by generation; gen is the generation of new tickets. used
	// is closed (and forgotten) when a ticket is used.
	byGen map[int]int
	gen   int
	used  chan struct{}
}

// memberLinger is the longest a group's writer waits for calls still
// writing entries. It bounds what a person's group change may wait for a
// concurrent import's batches; meanwhile the directory is busy with their
// entries.
var memberLinger = 500 * time.Millisecond

// ticket is a call's place among those writing entries (see entering).
type ticket struct {
	w    *memberWriter
	gen  int
	used bool // guarded by w.mu
}

// entering records a call that is writing its people's entries and will
// then hand in group changes. Its first change (or done) uses the ticket.
func (w *memberWriter) entering() *ticket {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byGen == nil {
		w.byGen = map[int]int{}
	}
	w.byGen[w.gen]++
	return &ticket{w: w, gen: w.gen}
}

// done uses the ticket if no change did (a call with no group to change,
// or that failed before); safe to call more than once.
func (t *ticket) done() {
	t.w.mu.Lock()
	defer t.w.mu.Unlock()
	t.useLocked()
}

func (t *ticket) useLocked() {
	if t.used {
		return
	}
	t.used = true
	w := t.w
	if w.byGen[t.gen]--; w.byGen[t.gen] == 0 {
		delete(w.byGen, t.gen)
	}
	// The first of a round done with its entries closes the round: calls
	// that start from now on are the next one.
	if t.gen == w.gen {
		w.gen++
	}
	if w.used != nil {
		close(w.used)
		w.used = nil
	}
}

// writingLocked counts the calls of generation g or earlier still writing
// entries.
func (w *memberWriter) writingLocked(g int) int {
	n := 0
	for gen, c := range w.byGen {
		if gen <= g {
			n += c
		}
	}
	return n
}

// settle waits until no call of generation g or earlier is writing
// entries, at most memberLinger.
func (w *memberWriter) settle(g int) {
	t := time.NewTimer(memberLinger)
	defer t.Stop()
	for {
		w.mu.Lock()
		if w.writingLocked(g) == 0 {
			w.mu.Unlock()
			return
		}
		if w.used == nil {
			w.used = make(chan struct{})
		}
		ch := w.used
		w.mu.Unlock()
		select {
		case <-ch:
		case <-t.C:
			return
		}
	}
}

// groupQueue is the changes waiting for one group, and the token held by
// the one caller writing to it. pending and users are guarded by
// memberWriter.mu.
type groupQueue struct {
	token   chan struct{}
	pending []*memberReq
	users   int // callers inside change for this group
}

// memberReq is one caller's changes to a group and, once written, their
// outcome.
type memberReq struct {
	g        Group // the group, as the caller's people name it (to create it if missing)
	add, del []string
	done     chan error // buffered: written once
}

// writeMembersFunc writes add and del to the group gdn in as few modifies
// as fit the timeout, creating it (as g says) when it is missing and
// members are to be added (Syncer.changeMembers).
type writeMembersFunc func(g Group, gdn string, add, del []string) error

// memberChange is one call's member changes to one group.
type memberChange struct {
	g        Group // the group, as the call's people name it (to create it if missing)
	dn       string
	add, del []string
}

// change hands changes (to distinct groups) to the writer and returns when
// they are written, with the outcome of the write that carried each, at
// the same index. Every change is queued at once, with the caller's ticket
// used (nil: none) in the same step, so that a group's writer finds all of
// them there; the groups are then written in the order given (callers
// should give them in one order, e.g. by DN, so that concurrent callers
// meet at the same group).
func (w *memberWriter) change(t *ticket, changes []memberChange, write writeMembersFunc) []error {
	type entry struct {
		k   string
		q   *groupQueue
		req *memberReq
	}
	es := make([]entry, len(changes))
	w.mu.Lock()
	if w.groups == nil {
		w.groups = map[string]*groupQueue{}
	}
	for i, c := range changes {
		k := dnKey(c.dn)
		q, ok := w.groups[k]
		if !ok {
			q = &groupQueue{token: make(chan struct{}, 1)}
			w.groups[k] = q
		}
		q.users++
		req := &memberReq{g: c.g, add: c.add, del: c.del, done: make(chan error, 1)}
		q.pending = append(q.pending, req)
		es[i] = entry{k, q, req}
	}
	// A caller without a ticket waits for everyone writing entries now.
	g := w.gen
	if t != nil {
		g = t.gen
		t.useLocked()
	}
	w.mu.Unlock()

	errs := make([]error, len(changes))
	for i, e := range es {
		errs[i] = w.wait(e.q, e.req, g, changes[i].dn, write)
		w.mu.Lock()
		if e.q.users--; e.q.users == 0 {
			delete(w.groups, e.k)
		}
		w.mu.Unlock()
	}
	return errs
}

// wait returns req's outcome once it is written: by the holder of the
// group's token before us, or by us with whatever waits beside it, once
// the calls of our round (generation g) are done with their entries.
func (w *memberWriter) wait(q *groupQueue, req *memberReq, g int, gdn string, write writeMembersFunc) error {
	q.token <- struct{}{}
	select {
	case err := <-req.done:
		// The holder before us wrote ours with theirs. Whatever is pending
		// now has callers of its own waiting for the token.
		<-q.token
		return err
	default:
	}
	w.settle(g)
	w.mu.Lock()
	reqs := q.pending
	q.pending = nil
	w.mu.Unlock()
	flushMembers(reqs, func(g Group, add, del []string) error { return write(g, gdn, add, del) })
	<-q.token
	return <-req.done
}

// flushMembers writes reqs, in order, in as few writes as keep their
// meaning: a request that adds a member an earlier one removes (or the
// reverse) starts a new write, so that the later word stands as it would
// have written alone. When a write that carried several requests fails for
// another reason than an unreachable directory, each of them is written
// again alone, so that a value the directory refuses fails only the batch
// that asked for it.
func flushMembers(reqs []*memberReq, write func(g Group, add, del []string) error) {
	for len(reqs) > 0 {
		var (
			g        Group
			add, del []string
			ops      = map[string]bool{} // dnKey → true: added, false: removed
			n        int
		)
	merge:
		for _, r := range reqs {
			for _, dn := range r.add {
				if v, ok := ops[dnKey(dn)]; ok && !v {
					break merge
				}
			}
			for _, dn := range r.del {
				if v, ok := ops[dnKey(dn)]; ok && v {
					break merge
				}
			}
			if len(r.add) > 0 && len(add) == 0 {
				g = r.g
			}
			for _, dn := range r.add {
				if _, ok := ops[dnKey(dn)]; !ok {
					ops[dnKey(dn)] = true
					add = append(add, dn)
				}
			}
			for _, dn := range r.del {
				if _, ok := ops[dnKey(dn)]; !ok {
					ops[dnKey(dn)] = false
					del = append(del, dn)
				}
			}
			n++
		}
		group := reqs[:n]
		reqs = reqs[n:]
		err := write(g, add, del)
		if err != nil && len(group) > 1 && !IsUnavailable(err) {
			for _, r := range group {
				r.done <- write(r.g, r.add, r.del)
			}
			continue
		}
		for _, r := range group {
			r.done <- err
		}
	}
}
