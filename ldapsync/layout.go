package ldapsync

// Marker is the value of businessCategory on every entry sesame created: the
// entries it manages. Entries without it are foreign and never touched.
const Marker = "sesame"

// markerAttr is the attribute that carries Marker. businessCategory is
// allowed by organization, groupOfNames and inetOrgPerson alike, and is
// otherwise unused by the services that read the directory.
const markerAttr = "businessCategory"

// Layout names the entries of the directory under a base DN:
//
//	ou=people,BASE               uid=USERNAME (inetOrgPerson)
//	ou=structures,BASE
//	  o=SLUG                     organization
//	    cn=SERVICE               groupOfNames: everyone granted the service
//	    cn=SERVICE-ROLE          groupOfNames: everyone with that role
//
// Every value is escaped (RFC 4514) where it enters a DN.
type Layout struct {
	Base string
}

// People is the DN of ou=people.
func (l Layout) People() string { return "ou=people," + l.Base }

// Structures is the DN of ou=structures.
func (l Layout) Structures() string { return "ou=structures," + l.Base }

// PersonDN is the DN of a person's entry.
func (l Layout) PersonDN(username string) string {
	return "uid=" + EscapeDNValue(username) + "," + l.People()
}

// StructureDN is the DN of a structure's organization entry.
func (l Layout) StructureDN(slug string) string {
	return "o=" + EscapeDNValue(slug) + "," + l.Structures()
}

// GroupDN is the DN of a service group (role empty) or of a role group.
func (l Layout) GroupDN(structure, service, role string) string {
	return "cn=" + EscapeDNValue(GroupCN(service, role)) + "," + l.StructureDN(structure)
}

// Placeholder is the member every managed group holds so that a group with
// no person is still a valid groupOfNames. No entry has this DN.
func (l Layout) Placeholder() string { return "cn=placeholder," + l.Structures() }

// GroupCN is the common name of a service group (role empty): the service's
// slug, or SERVICE-ROLE for a role group.
func GroupCN(service, role string) string {
	if role == "" {
		return service
	}
	return service + "-" + role
}
