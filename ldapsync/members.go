package ldapsync

import "sync"

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
// in one modify (as a database's group commit does). Each caller returns
// once its own changes are written, with their outcome. The zero value is
// ready to use.
type memberWriter struct {
	mu     sync.Mutex
	groups map[string]*groupQueue // by dnKey of the group
}

// groupQueue is the changes waiting for one group, and the token held by
// the one caller writing to it.
type groupQueue struct {
	token   chan struct{}
	mu      sync.Mutex
	pending []*memberReq
	users   int // callers inside change for this group (guarded by memberWriter.mu)
}

// memberReq is one caller's changes to a group and, once written, their
// outcome.
type memberReq struct {
	g        Group // the group, as the caller's people name it (to create it if missing)
	add, del []string
	done     chan error // buffered: written once
}

// writeMembersFunc writes add and del to the group in as few modifies as
// fit the timeout, creating it (as g says) when it is missing and members
// are to be added (Syncer.changeMembers).
type writeMembersFunc func(g Group, add, del []string) error

// change hands add and del for the group gdn to the writer and returns
// when they are written, with the outcome of the write that carried them.
func (w *memberWriter) change(g Group, gdn string, add, del []string, write writeMembersFunc) error {
	k := dnKey(gdn)
	w.mu.Lock()
	if w.groups == nil {
		w.groups = map[string]*groupQueue{}
	}
	q, ok := w.groups[k]
	if !ok {
		q = &groupQueue{token: make(chan struct{}, 1)}
		w.groups[k] = q
	}
	q.users++
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		if q.users--; q.users == 0 {
			delete(w.groups, k)
		}
		w.mu.Unlock()
	}()

	req := &memberReq{g: g, add: add, del: del, done: make(chan error, 1)}
	q.mu.Lock()
	q.pending = append(q.pending, req)
	q.mu.Unlock()

	q.token <- struct{}{}
	select {
	case err := <-req.done:
		// The holder before us wrote ours with theirs. Whatever is pending
		// now has callers of its own waiting for the token.
		<-q.token
		return err
	default:
	}
	q.mu.Lock()
	reqs := q.pending
	q.pending = nil
	q.mu.Unlock()
	flushMembers(reqs, write)
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
func flushMembers(reqs []*memberReq, write writeMembersFunc) {
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
