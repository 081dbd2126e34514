package plugin

// CheckName is the name of the check definition that ran the binary, as
// the agent wrote it in the event ("" without one).
func (e *Event) CheckName() string {
	if e == nil || e.Check == nil {
		return ""
	}
	return e.Check.Metadata.Name
}
