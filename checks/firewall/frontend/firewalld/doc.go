// Package firewalld reads firewalld's configuration, the running daemon's
// over D-Bus (dbus.go) or its zone and service XML (read.go, xml.go,
// rich.go), and explains the kernel's verdict in firewalld's terms
// (explain.go, verdict.go): which zone takes a source, what it allows,
// and what a reload would change.
package firewalld
