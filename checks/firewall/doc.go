// Package firewall is the core of redis-firewall-check: it reads the
// ruleset the kernel runs (or saved dumps of it), computes for each Redis
// port and address family the exact set of sources whose new TCP
// connection is delivered to a local socket, and judges that against the
// trusted networks.
//
// New is the check for the runner. Gather reads the Facts under the
// runner's context, through a System (checks/firewall/system); Judge,
// pure, compiles them (compile), evaluates the ports (Evaluate, over
// eval) and turns the Report into a result.Result (JudgeReport), with
// ufw's and firewalld's explanations from checks/firewall/frontend.
package firewall
