package unixsock

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ACL tags from linux/posix_acl.h.
const (
	aclUserObj  = 0x01
	aclUser     = 0x02
	aclGroupObj = 0x04
	aclGroup    = 0x08
	aclMask     = 0x10
	aclOther    = 0x20
)

// ACLEntry is one entry of a POSIX access ACL; ID is meaningful for the
// named user and group entries only.
type ACLEntry struct {
	Tag  uint16
	Perm uint16 // rwx as 4|2|1
	ID   uint32
}

// ACL is a parsed system.posix_acl_access attribute.
type ACL []ACLEntry

// ErrACL means an attribute that is not a POSIX ACL this code understands.
var ErrACL = errors.New("malformed POSIX ACL")

// maxACLEntries caps a parsed ACL; ext4 allows about 500 in one block.
const maxACLEntries = 4096

// ParseACL decodes the system.posix_acl_access extended attribute: a
// little-endian version (2), then {tag u16, perm u16, id u32} entries.
func ParseACL(b []byte) (ACL, error) {
	const version = 2
	if len(b) < 4 || binary.LittleEndian.Uint32(b) != version {
		return nil, fmt.Errorf("%w: bad header", ErrACL)
	}
	b = b[4:]
	if len(b)%8 != 0 || len(b)/8 > maxACLEntries {
		return nil, fmt.Errorf("%w: %d bytes of entries", ErrACL, len(b))
	}
	var acl ACL
	seen := map[uint16]bool{}
	for ; len(b) > 0; b = b[8:] {
		e := ACLEntry{Tag: binary.LittleEndian.Uint16(b), Perm: binary.LittleEndian.Uint16(b[2:]), ID: binary.LittleEndian.Uint32(b[4:])}
		switch e.Tag {
		case aclUserObj, aclGroupObj, aclMask, aclOther:
			if seen[e.Tag] {
				return nil, fmt.Errorf("%w: tag %#x twice", ErrACL, e.Tag)
			}
			seen[e.Tag] = true
		case aclUser, aclGroup:
		default:
			return nil, fmt.Errorf("%w: tag %#x", ErrACL, e.Tag)
		}
		if e.Perm&^7 != 0 {
			return nil, fmt.Errorf("%w: permission %#x", ErrACL, e.Perm)
		}
		acl = append(acl, e)
	}
	if !seen[aclUserObj] || !seen[aclGroupObj] || !seen[aclOther] {
		return nil, fmt.Errorf("%w: a required entry is missing", ErrACL)
	}
	return acl, nil
}

func (a ACL) find(tag uint16) (ACLEntry, bool) {
	for _, e := range a {
		if e.Tag == tag {
			return e, true
		}
	}
	return ACLEntry{}, false
}

// extended reports an ACL with named entries or a mask: one that grants
// more than the mode bits show.
func (a ACL) extended() bool {
	for _, e := range a {
		if e.Tag == aclUser || e.Tag == aclGroup || e.Tag == aclMask {
			return true
		}
	}
	return false
}
