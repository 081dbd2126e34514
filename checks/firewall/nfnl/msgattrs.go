package nfnl

// The attributes of each message (NFTA_TABLE_*, NFTA_CHAIN_*, ...), by
// number: where each goes, and the name its errors give. fill decodes
// by them.

var tableAttrs = []attr[Table]{
	1: asName(func(t *Table) *string { return &t.Name }),
	2: asU32("flags", func(t *Table) *uint32 { return &t.Flags }),
	3: asU32("use", func(t *Table) *uint32 { return &t.Use }),
	4: asU64("handle", func(t *Table) *uint64 { return &t.Handle }),
}

var chainAttrs = []attr[Chain]{
	1:  asName(func(c *Chain) *string { return &c.Table }),
	2:  asU64("handle", func(c *Chain) *uint64 { return &c.Handle }),
	3:  asName(func(c *Chain) *string { return &c.Name }),
	4:  asFunc("hook", (*decoder).hook),
	5:  asU32("policy", func(c *Chain) *uint32 { return &c.Policy }),
	6:  asU32("use", func(c *Chain) *uint32 { return &c.Use }),
	7:  asName(func(c *Chain) *string { return &c.Type }),
	10: asU32("flags", func(c *Chain) *uint32 { return &c.Flags }),
}

// ruleAttrs leaves NFTA_RULE_EXPRESSIONS in d.ruleExprs: the rule decodes
// them once its other attributes are known.
var ruleAttrs = []attr[Rule]{
	1: asFunc("", func(d *decoder, r *Rule, p []byte) error {
		r.Table = d.lastName(&d.lastTable, trimNUL(p))
		return nil
	}),
	2: asFunc("", func(d *decoder, r *Rule, p []byte) error {
		r.Chain = d.lastName(&d.lastChain, trimNUL(p))
		return nil
	}),
	3: asU64("handle", func(r *Rule) *uint64 { return &r.Handle }),
	4: asFunc("", func(d *decoder, _ *Rule, p []byte) error {
		d.ruleExprs = p
		return nil
	}),
	6: asU64("position", func(r *Rule) *uint64 { return &r.Position }),
	7: asBytes(func(r *Rule) *[]byte { return &r.UserData }),
}

var setAttrs = []attr[Set]{
	1:  asName(func(s *Set) *string { return &s.Table }),
	2:  asName(func(s *Set) *string { return &s.Name }),
	3:  asU32("flags", func(s *Set) *uint32 { return &s.Flags }),
	4:  asU32("key type", func(s *Set) *uint32 { return &s.KeyType }),
	5:  asU32("key len", func(s *Set) *uint32 { return &s.KeyLen }),
	6:  asU32("data type", func(s *Set) *uint32 { return &s.DataType }),
	7:  asU32("data len", func(s *Set) *uint32 { return &s.DataLen }),
	8:  asU32("policy", func(s *Set) *uint32 { return &s.Policy }),
	9:  asFunc("desc", (*decoder).setDesc),
	10: asU32("id", func(s *Set) *uint32 { return &s.ID }),
	11: asU64("timeout", func(s *Set) *uint64 { return &s.Timeout }),
	12: asU32("gc interval", func(s *Set) *uint32 { return &s.GCInterval }),
	13: asBytes(func(s *Set) *[]byte { return &s.UserData }),
	15: asU32("obj type", func(s *Set) *uint32 { return &s.ObjType }),
	16: asU64("handle", func(s *Set) *uint64 { return &s.Handle }),
	17: asFunc("expr", func(d *decoder, s *Set, p []byte) error {
		x, err := d.expr(p, 1)
		if x != nil {
			s.Exprs = append(s.Exprs, x)
		}
		return err
	}),
	18: asFunc("expressions", func(d *decoder, s *Set, p []byte) error {
		es, err := d.nested(p, 0)
		s.Exprs = append(s.Exprs, es...)
		return err
	}),
}

// The errors of an element's data and expressions all say "element".
var elemAttrs = []attr[Elem]{
	1: asData("element", func(e *Elem) *[]byte { return &e.Key }),
	2: asFunc("element", func(d *decoder, e *Elem, p []byte) (err error) {
		e.Data, e.Verdict, err = d.data(p)
		return err
	}),
	3: asU32("flags", func(e *Elem) *uint32 { return &e.Flags }),
	4: asU64("timeout", func(e *Elem) *uint64 { return &e.Timeout }),
	5: asU64("expiration", func(e *Elem) *uint64 { return &e.Expires }),
	6: asBytes(func(e *Elem) *[]byte { return &e.UserData }),
	7: asFunc("element", func(d *decoder, e *Elem, p []byte) error {
		x, err := d.expr(p, 1)
		if x != nil {
			e.Exprs = append(e.Exprs, x)
		}
		return err
	}),
	9:  asName(func(e *Elem) *string { return &e.ObjRef }),
	10: asData("element", func(e *Elem) *[]byte { return &e.KeyEnd }),
	11: asFunc("element", func(d *decoder, e *Elem, p []byte) error {
		es, err := d.nested(p, 0)
		e.Exprs = append(e.Exprs, es...)
		return err
	}),
}

var objectAttrs = []attr[Object]{
	1: asName(func(o *Object) *string { return &o.Table }),
	2: asName(func(o *Object) *string { return &o.Name }),
	3: asU32("type", func(o *Object) *uint32 { return &o.Type }),
	4: asBytes(func(o *Object) *[]byte { return &o.Data }),
	6: asU64("handle", func(o *Object) *uint64 { return &o.Handle }),
	8: asBytes(func(o *Object) *[]byte { return &o.UserData }),
}

var verdictAttrs = []attr[Verdict]{
	1: asFunc("verdict code", func(_ *decoder, v *Verdict, p []byte) error {
		c, err := be32(p)
		v.Code = int32(c)
		return err
	}),
	2: asName(func(v *Verdict) *string { return &v.Chain }),
	3: asU32("verdict chain id", func(v *Verdict) *uint32 { return &v.ChainID }),
}
