// Package firewall is the core of redis-firewall-check: it reads the
// ruleset the kernel runs (or saved dumps of it), computes for each Redis
// port and address family the exact set of sources whose new TCP
// connection is delivered to a local socket, and judges that against the
// trusted networks.
//
// Check is the entry point for the check binary. The lower layers are
// usable on their own: Collect reads the sources, Build compiles them,
// Evaluate computes a Report, Judge turns a Report into a result.Result.
// Only Collect performs I/O, through a System.
package firewall
