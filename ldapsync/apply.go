package ldapsync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// apply makes the changes of p, phase after phase, with up to workers
// operations in flight within a phase. A change the directory refuses
// (isRefusal: the entry's own data breaks the schema) is marked Refused in
// p and the others go on; a person it refused to add is left out of the
// groups that were to name it. Any other error stops at once: what was
// applied is consistent entry by entry, and a new plan picks up the rest.
// Conflicts are skipped.
func apply(ctx context.Context, dir Directory, p Plan, workers int, progress func(done, total int)) (applied int, err error) {
	if workers < 1 {
		workers = 1
	}
	pr := &progressCount{fn: progress, total: len(p.Changes)}
	ch := newChunker(dir)
	notAdded := map[string]bool{} // dnKey of people whose add was refused
	for i := 0; i < len(p.Changes); {
		j := i
		for j < len(p.Changes) && p.Changes[j].phase == p.Changes[i].phase {
			j++
		}
		phase := p.Changes[i:j]
		if len(notAdded) > 0 {
			for k := range phase {
				withoutMembers(&phase[k], notAdded)
			}
		}
		n, err := applyPhase(ctx, dir, phase, workers, pr, ch)
		applied += n
		if err != nil {
			return applied, err
		}
		for _, c := range phase {
			if c.Refused != "" && c.Op == OpAdd && c.Kind == KindPerson {
				notAdded[dnKey(c.DN)] = true
			}
		}
		i = j
	}
	return applied, nil
}

// withoutMembers drops the members in drop from a group change.
func withoutMembers(c *Change, drop map[string]bool) {
	if c.Kind != KindGroup {
		return
	}
	keep := func(dns []string) []string {
		return slices.DeleteFunc(slices.Clone(dns), func(dn string) bool { return drop[dnKey(dn)] })
	}
	c.AddMembers = keep(c.AddMembers)
	if m, ok := c.entry["member"]; ok {
		c.entry["member"] = keep(m)
	}
}

// progressCount reports the changes dealt with to a Progress callback.
type progressCount struct {
	fn          func(done, total int)
	done, total int
}

// step counts one more change done (called with applyPhase's lock held).
func (p *progressCount) step() {
	p.done++
	if p.fn != nil {
		p.fn(p.done, p.total)
	}
}

func applyPhase(ctx context.Context, dir Directory, changes []Change, workers int, pr *progressCount, ch *chunker) (int, error) {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		first   error
		applied int
		next    = make(chan *Change)
	)
	for range min(workers, len(changes)) {
		wg.Go(func() {
			for c := range next {
				if c.Op == OpModify && len(c.Attrs)+len(c.AddMembers)+len(c.RemoveMembers) == 0 {
					mu.Lock()
					pr.step()
					mu.Unlock()
					continue // nothing left once refused members were dropped
				}
				err := applyChange(dir, c, ch)
				mu.Lock()
				switch {
				case err == nil:
					c.Refused = "" // a prediction the directory proved wrong
					if c.Op != OpConflict {
						applied++
					}
				case isRefusal(err):
					c.Refused = refusalReason(err)
				case first == nil:
					first = err
				}
				if err == nil || isRefusal(err) {
					pr.step()
				}
				mu.Unlock()
			}
		})
	}
	for i := range changes {
		mu.Lock()
		stop := first != nil
		mu.Unlock()
		if stop {
			break
		}
		if err := ctx.Err(); err != nil {
			mu.Lock()
			first = fmt.Errorf("ldapsync: sync interrupted: %w", err)
			mu.Unlock()
			break
		}
		next <- &changes[i]
	}
	close(next)
	wg.Wait()
	return applied, first
}

// applyChange makes one change. Member values go in requests of the size
// ch gives (nil: memberChunk).
func applyChange(dir Directory, c *Change, ch *chunker) error {
	switch c.Op {
	case OpConflict:
		return nil
	case OpAdd:
		req := ldap.NewAddRequest(c.DN, nil)
		var rest []string
		n := 0
		for _, name := range sortedKeys(c.entry) {
			v := c.entry[name]
			if name == "member" {
				if size := ch.size(); len(v) > size {
					v, rest = v[:size], v[size:]
				}
				n = len(v)
			}
			req.Attribute(name, v)
		}
		start := time.Now()
		if err := dir.Add(req); err != nil {
			if n == 0 || !isTimeout(err) || !ch.shrink() {
				return fmt.Errorf("ldapsync: add %s: %w", c.DN, err)
			}
			// The group write outlasted the timeout: slapd may still have
			// made it. An add is all or nothing: if the entry is there it
			// names the members sent; if not, try again with fewer.
			cur, rerr := readEntry(dir, c.DN, []string{markerAttr})
			switch {
			case rerr != nil:
				return fmt.Errorf("ldapsync: add %s: %w", c.DN, err)
			case cur == nil:
				return applyChange(dir, c, ch)
			}
		} else {
			ch.observe(n, time.Since(start))
		}
		if len(rest) > 0 {
			return applyChange(dir, &Change{Op: OpModify, Kind: c.Kind, DN: c.DN, AddMembers: rest}, ch)
		}
	case OpDelete:
		if err := dir.Del(ldap.NewDelRequest(c.DN, nil)); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return fmt.Errorf("ldapsync: delete %s: %w", c.DN, err)
		}
	case OpModify:
		if len(c.AddMembers)+len(c.RemoveMembers) > ch.size() {
			return modifyInChunks(dir, c, ch)
		}
		req := ldap.NewModifyRequest(c.DN, nil)
		for _, a := range c.Attrs {
			if len(a.New) == 0 {
				req.Delete(a.Name, nil)
			} else {
				req.Replace(a.Name, a.New)
			}
		}
		if len(c.AddMembers) > 0 {
			req.Add("member", c.AddMembers)
		}
		if len(c.RemoveMembers) > 0 {
			req.Delete("member", c.RemoveMembers)
		}
		start := time.Now()
		err := dir.Modify(req)
		if err != nil && ldap.IsErrorAnyOf(err, ldap.LDAPResultAttributeOrValueExists, ldap.LDAPResultNoSuchAttribute) {
			// Someone changed the entry since it was read (a person job
			// beside a sync): make the changes one value at a time.
			err = modifyOneByOne(dir, c)
		} else if err == nil {
			ch.observe(len(c.AddMembers)+len(c.RemoveMembers), time.Since(start))
		} else if len(c.AddMembers)+len(c.RemoveMembers) > 0 && isTimeout(err) && ch.shrink() {
			// The write outlasted the timeout (slapd may still have made
			// it): again in smaller pieces; values already there are
			// then taken one by one.
			return modifyInChunks(dir, c, ch)
		}
		if err != nil && isRefusal(err) {
			// The entry's other data is refused: its password change (a
			// disable's removal, a new password) still goes in alone, or
			// the old password would keep binding.
			passwordAlone(dir, c)
		}
		if err != nil {
			return fmt.Errorf("ldapsync: modify %s: %w", c.DN, err)
		}
	}
	return nil
}

// passwordAlone makes c's userPassword change by itself, when c has one
// beside other changes (best effort: the refusal of c is what is reported).
func passwordAlone(dir Directory, c *Change) {
	if len(c.Attrs) < 2 {
		return
	}
	for _, a := range c.Attrs {
		if !strings.EqualFold(a.Name, "userPassword") {
			continue
		}
		req := ldap.NewModifyRequest(c.DN, nil)
		if len(a.New) == 0 {
			req.Delete(a.Name, nil)
		} else {
			req.Replace(a.Name, a.New)
		}
		_ = dir.Modify(req)
	}
}

// memberChunk is the most member values sent in one operation. How many
// actually go in one is measured as the writes go (see chunker): on a
// slapd that syncs every write to disk, the memberof overlay makes each
// member value cost a durable write of the member's entry, and one modify
// of 5,000 members outlasted a 10 s request timeout.
var memberChunk = 5000

// Bounds of the chunker: until it has measured a write, it assumes that
// each member value costs firstCost (a busy disk's sync, with the memberof
// overlay updating the member's entry); no write carries fewer than
// minChunk values unless fewer are left.
const (
	firstCost = 20 * time.Millisecond
	minChunk  = 10
)

// chunker sizes group writes so that each takes about a quarter of the
// request timeout at most: it measures how long each write took per member
// value and sizes the next one from that (growing at most fourfold a
// step), between minChunk and memberChunk. The measure includes the wait
// behind concurrent writes, which slapd serialises. A nil chunker always
// says memberChunk. Safe for concurrent use.
type chunker struct {
	target time.Duration
	mu     sync.Mutex
	n      int
}

// newChunker returns a chunker for dir, whose request timeout it reads when
// dir is a *Conn (else it assumes DefaultRequestTimeout).
func newChunker(dir Directory) *chunker {
	timeout := DefaultRequestTimeout
	if c, ok := dir.(*Conn); ok && c.cfg.RequestTimeout > 0 {
		timeout = c.cfg.RequestTimeout
	}
	target := timeout / 4
	return &chunker{target: target, n: max(minChunk, int(target/firstCost))}
}

// size is how many member values the next write may carry.
func (ch *chunker) size() int {
	if ch == nil {
		return memberChunk
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return max(1, min(ch.n, memberChunk))
}

// observe records that a write of n member values took d.
func (ch *chunker) observe(n int, d time.Duration) {
	if ch == nil || n < minChunk {
		return // too few values to tell the cost of one
	}
	per := d / time.Duration(n)
	next := memberChunk
	if per > 0 {
		next = int(ch.target / per)
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.n = max(minChunk, min(next, 4*ch.n, memberChunk))
}

// shrink divides the next writes' size by four after a write timed out; it
// reports false when they were already as small as they go.
func (ch *chunker) shrink() bool {
	if ch == nil {
		return false
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.n <= minChunk {
		return false
	}
	ch.n = max(minChunk, ch.n/4)
	return true
}

// isTimeout reports whether err is a request that outlasted its timeout
// (go-ldap's "connection timed out"), as opposed to a refused or lost
// connection.
func isTimeout(err error) bool {
	return ldap.IsErrorWithCode(err, ldap.ErrorNetwork) && strings.Contains(err.Error(), "timed out")
}

// modifyInChunks applies a modify change with many member values as a
// series of modifies, each with as many values as ch allows.
func modifyInChunks(dir Directory, c *Change, ch *chunker) error {
	if len(c.Attrs) > 0 {
		if err := applyChange(dir, &Change{Op: OpModify, Kind: c.Kind, DN: c.DN, Attrs: c.Attrs}, ch); err != nil {
			return err
		}
	}
	for add := c.AddMembers; len(add) > 0; {
		n := min(len(add), ch.size())
		if err := applyChange(dir, &Change{Op: OpModify, Kind: c.Kind, DN: c.DN, AddMembers: add[:n]}, ch); err != nil {
			return err
		}
		add = add[n:]
	}
	for del := c.RemoveMembers; len(del) > 0; {
		n := min(len(del), ch.size())
		if err := applyChange(dir, &Change{Op: OpModify, Kind: c.Kind, DN: c.DN, RemoveMembers: del[:n]}, ch); err != nil {
			return err
		}
		del = del[n:]
	}
	return nil
}

// modifyOneByOne applies a modify change value by value, taking a value
// already present (or already gone) as done.
func modifyOneByOne(dir Directory, c *Change) error {
	var reqs []*ldap.ModifyRequest
	for _, a := range c.Attrs {
		r := ldap.NewModifyRequest(c.DN, nil)
		if len(a.New) == 0 {
			r.Delete(a.Name, nil)
		} else {
			r.Replace(a.Name, a.New)
		}
		reqs = append(reqs, r)
	}
	for _, m := range c.AddMembers {
		r := ldap.NewModifyRequest(c.DN, nil)
		r.Add("member", []string{m})
		reqs = append(reqs, r)
	}
	for _, m := range c.RemoveMembers {
		r := ldap.NewModifyRequest(c.DN, nil)
		r.Delete("member", []string{m})
		reqs = append(reqs, r)
	}
	for _, r := range reqs {
		if err := dir.Modify(r); err != nil && !ldap.IsErrorAnyOf(err, ldap.LDAPResultAttributeOrValueExists, ldap.LDAPResultNoSuchAttribute) {
			return err
		}
	}
	return nil
}
