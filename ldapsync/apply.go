package ldapsync

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/go-ldap/ldap/v3"
)

// apply makes the changes of p, phase after phase, with up to workers
// operations in flight within a phase. A change the directory refuses
// (isRefusal: the entry's own data breaks the schema) is marked Refused in
// p and the others go on; a person it refused to add is left out of the
// groups that were to name it. Any other error stops at once: what was
// applied is consistent entry by entry, and a new plan picks up the rest.
// Conflicts are skipped.
func apply(ctx context.Context, dir Directory, p Plan, workers int) (applied int, err error) {
	if workers < 1 {
		workers = 1
	}
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
		n, err := applyPhase(ctx, dir, phase, workers)
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

func applyPhase(ctx context.Context, dir Directory, changes []Change, workers int) (int, error) {
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
					continue // nothing left once refused members were dropped
				}
				err := applyChange(dir, c)
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

// applyChange makes one change.
func applyChange(dir Directory, c *Change) error {
	switch c.Op {
	case OpConflict:
		return nil
	case OpAdd:
		req := ldap.NewAddRequest(c.DN, nil)
		var rest []string
		for _, name := range sortedKeys(c.entry) {
			v := c.entry[name]
			if name == "member" && len(v) > memberChunk {
				v, rest = v[:memberChunk], v[memberChunk:]
			}
			req.Attribute(name, v)
		}
		if err := dir.Add(req); err != nil {
			return fmt.Errorf("ldapsync: add %s: %w", c.DN, err)
		}
		if len(rest) > 0 {
			return applyChange(dir, &Change{Op: OpModify, Kind: c.Kind, DN: c.DN, AddMembers: rest})
		}
	case OpDelete:
		if err := dir.Del(ldap.NewDelRequest(c.DN, nil)); err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return fmt.Errorf("ldapsync: delete %s: %w", c.DN, err)
		}
	case OpModify:
		if len(c.AddMembers)+len(c.RemoveMembers) > memberChunk {
			return modifyInChunks(dir, c)
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
		err := dir.Modify(req)
		if err != nil && ldap.IsErrorAnyOf(err, ldap.LDAPResultAttributeOrValueExists, ldap.LDAPResultNoSuchAttribute) {
			// Someone changed the entry since it was read (a person job
			// beside a sync): make the changes one value at a time.
			err = modifyOneByOne(dir, c)
		}
		if err != nil {
			return fmt.Errorf("ldapsync: modify %s: %w", c.DN, err)
		}
	}
	return nil
}

// memberChunk bounds the member values sent in one operation, so that one
// request on a group of tens of thousands stays well within the request
// timeout; below it, a group's changes go in a single modify.
var memberChunk = 5000

// modifyInChunks applies a modify change with many member values as a
// series of modifies of at most memberChunk values each.
func modifyInChunks(dir Directory, c *Change) error {
	first := &Change{Op: OpModify, Kind: c.Kind, DN: c.DN, Attrs: c.Attrs}
	parts := []*Change{first}
	for add := c.AddMembers; len(add) > 0; {
		n := min(len(add), memberChunk)
		parts = append(parts, &Change{Op: OpModify, Kind: c.Kind, DN: c.DN, AddMembers: add[:n]})
		add = add[n:]
	}
	for del := c.RemoveMembers; len(del) > 0; {
		n := min(len(del), memberChunk)
		parts = append(parts, &Change{Op: OpModify, Kind: c.Kind, DN: c.DN, RemoveMembers: del[:n]})
		del = del[n:]
	}
	for _, p := range parts {
		if len(p.Attrs)+len(p.AddMembers)+len(p.RemoveMembers) == 0 {
			continue
		}
		if err := applyChange(dir, p); err != nil {
			return err
		}
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
