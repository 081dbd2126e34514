package eval

// Tri is a three-valued truth value.
type Tri uint8

const (
	False Tri = iota
	True
	Unknown
)

func (t Tri) String() string {
	switch t {
	case False:
		return "false"
	case True:
		return "true"
	}
	return "unknown"
}

// Not negates t; Unknown stays Unknown.
func (t Tri) Not() Tri {
	switch t {
	case False:
		return True
	case True:
		return False
	}
	return Unknown
}

// triOf converts a decided boolean.
func triOf(b bool) Tri {
	if b {
		return True
	}
	return False
}

// negate applies an optional "!" to t.
func negate(t Tri, neg bool) Tri {
	if neg {
		return t.Not()
	}
	return t
}
