package eval

// Tri is a three-valued truth value.
type Tri uint8

const (
	False Tri = iota
	True
	Unknown
	// Chosen is decided by the client: some first SYN it may send, or
	// some history of its own traffic, makes the condition true and some
	// makes it false. The evaluator follows both branches and the client
	// takes the one it likes (see choose).
	Chosen
)

func (t Tri) String() string {
	switch t {
	case False:
		return "false"
	case True:
		return "true"
	case Chosen:
		return "chosen by the client"
	}
	return "unknown"
}

// Not negates t; Unknown and Chosen stay as they are.
func (t Tri) Not() Tri {
	switch t {
	case False:
		return True
	case True:
		return False
	}
	return t
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
