package tlscheck

import (
	"fmt"

	"github.com/sensu-community/sensu-redis-security-checks/checks/resp"
	"github.com/sensu-community/sensu-redis-security-checks/checks/result"
)

// ClientCertPolicy is how the server treats clients without a certificate.
type ClientCertPolicy int

const (
	PolicyUnknown      ClientCertPolicy = iota
	PolicyNotRequested                  // tls-auth-clients no
	PolicyOptional                      // tls-auth-clients optional
	PolicyRequired                      // tls-auth-clients yes
)

func (p ClientCertPolicy) String() string {
	switch p {
	case PolicyNotRequested:
		return "does not request a client certificate"
	case PolicyOptional:
		return "requests a client certificate but accepts clients without one"
	case PolicyRequired:
		return "requires a client certificate"
	}
	return "client certificate policy unknown"
}

// ClassifyClientCert reads the policy off a connection attempt made
// WITHOUT a client certificate.
func ClassifyClientCert(o Observed) ClientCertPolicy {
	if !o.ServerHello() {
		return PolicyUnknown
	}
	if !o.CertRequested {
		if o.Completed {
			return PolicyNotRequested
		}
		return PolicyUnknown
	}
	// Asked, none given: a server that requires one aborts with an alert,
	// during the handshake on TLS 1.2 or on the first read on TLS 1.3. On
	// TLS 1.3 the alert and the close can beat the PING: the write then
	// meets a reset and the alert is lost, so a connection closed at the
	// first exchange after an empty certificate counts as a refusal too.
	if classify(o.Err) == failRemote || classify(o.PingErr) == failRemote {
		return PolicyRequired
	}
	if o.Completed && !o.Replied && classify(o.PingErr) == failClosed {
		return PolicyRequired
	}
	if o.Completed && o.Replied {
		return PolicyOptional
	}
	return PolicyUnknown
}

// JudgeClientCert turns the policy into a finding. Without
// --require-client-cert it is context only.
func JudgeClientCert(p ClientCertPolicy, require bool, o Observed) result.Finding {
	if !require {
		if p == PolicyUnknown {
			return result.Finding{State: result.OK, Text: "client certificates: policy not determined" + errSuffix(o)}
		}
		return result.Finding{State: result.OK, Text: "client certificates: the server " + p.String()}
	}
	switch p {
	case PolicyRequired:
		return result.Finding{State: result.OK, Text: "client certificates: the server requires one"}
	case PolicyUnknown:
		return result.Finding{State: result.Unknown, Text: "client certificates: could not tell whether the server requires one" + errSuffix(o)}
	}
	return result.Finding{State: result.Critical, Text: fmt.Sprintf(
		"client certificates: the server %s (--require-client-cert)", p)}
}

// errSuffix explains why an attempt gave no verdict.
func errSuffix(o Observed) string {
	switch {
	case o.Err != nil:
		return " (" + o.Err.Error() + ")"
	case o.PingErr != nil:
		return " (" + o.PingErr.Error() + ")"
	case o.Replied && !o.Reply.Class.IsRedis():
		return " (" + resp.NotRedis.String() + ")"
	}
	return ""
}

// StrangerVerdict is what a server that requires a client certificate did
// with a self-signed one no authority issued.
type StrangerVerdict int

const (
	StrangerUnknown  StrangerVerdict = iota
	StrangerRefused                  // aborted the handshake or the first read
	StrangerAccepted                 // served the client: certificates are not verified
)

// ClassifyStranger reads the handshake that presented the check's own
// self-signed certificate. A Redis answer of any kind (NOAUTH included)
// means the certificate got the client in.
func ClassifyStranger(o Observed) StrangerVerdict {
	switch {
	case !o.ServerHello() || !o.CertRequested:
		return StrangerUnknown
	case o.Replied && o.Reply.Class.IsRedis():
		return StrangerAccepted
	case classify(o.Err) == failRemote || classify(o.PingErr) == failRemote:
		return StrangerRefused
	case o.Completed && !o.Replied && classify(o.PingErr) == failClosed:
		// TLS 1.3: the alert can be lost to the reset, as in
		// ClassifyClientCert.
		return StrangerRefused
	}
	return StrangerUnknown
}

// JudgeStranger: a server that requires a client certificate but serves one
// anyone can mint keeps nobody out. CRITICAL with --require-client-cert,
// context without it; not determined is UNKNOWN when the requirement was
// asked for.
func JudgeStranger(v StrangerVerdict, require bool, o Observed) result.Finding {
	switch v {
	case StrangerRefused:
		return result.Finding{State: result.OK, Text: "client certificates: a self-signed one no authority issued was refused"}
	case StrangerAccepted:
		st := result.OK
		if require {
			st = result.Critical
		}
		return result.Finding{State: st, Text: "client certificates: the server accepted a self-signed certificate the check made up, which anyone can: " +
			"it does not verify them; make whatever terminates TLS verify client certificates against the clients' CA " +
			"(redis: tls-ca-cert-file or tls-ca-cert-dir naming only that CA)"}
	}
	st := result.OK
	if require {
		st = result.Unknown
	}
	return result.Finding{State: st, Text: "client certificates: whether the server verifies them was not determined" + errSuffix(o)}
}
