package compile

import (
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/eval"
	"github.com/sensu-community/sensu-redis-security-checks/checks/firewall/iptsave"
)

// Protocol and port modules: -m tcp/udp/udplite/sctp/dccp and multiport.

func portModuleCompilers() map[string]moduleCompiler {
	t := map[string]moduleCompiler{"multiport": {compile: multiportConds}}
	for _, p := range []string{"tcp", "udp", "udplite", "sctp", "dccp"} {
		t[p] = moduleCompiler{compile: protoModuleConds}
	}
	return t
}

// protoModuleConds compiles a protocol module; the module itself requires
// its protocol.
func protoModuleConds(c *iptCompiler, x *modMatch) []eval.Cond {
	p, _ := parseProto(x.m.Module)
	out := x.out
	for _, o := range x.m.Options {
		switch o.Name {
		case "--sport", "--source-port", "--dport", "--destination-port":
			f := eval.DPort
			if o.Name == "--sport" || o.Name == "--source-port" {
				f = eval.SPort
			}
			cond, err := c.portCond(f, p, o.Neg, o.Values[0])
			if err != nil {
				return x.bad(o, err)
			}
			out = append(out, cond)
		case "--tcp-flags", "--syn":
			cond, err := tcpFlagsCond(o)
			if err != nil {
				return x.bad(o, err)
			}
			out = append(out, cond)
		case "--tcp-option":
			out = append(out, chosenHeader("TCP options", o.Neg))
		default:
			return x.notModelled(o)
		}
	}
	return append(out, c.protoCond(p))
}

// tcpFlagsCond is "--tcp-flags MASK COMP", or "--syn": SYN of FIN, SYN,
// RST and ACK.
func tcpFlagsCond(o iptsave.Option) (eval.Cond, error) {
	mask, comp := uint8(eval.TCPFin|eval.TCPSyn|eval.TCPRst|eval.TCPAck), uint8(eval.TCPSyn)
	if o.Name == "--tcp-flags" {
		var err error
		if mask, err = parseTCPFlags(o.Values[0]); err != nil {
			return nil, err
		}
		if comp, err = parseTCPFlags(o.Values[1]); err != nil {
			return nil, err
		}
	}
	return eval.TCPFlags{Mask: mask, Comp: comp, Neg: o.Neg}, nil
}

// multiportConds compiles -m multiport, which needs the rule's -p.
func multiportConds(c *iptCompiler, x *modMatch) []eval.Cond {
	p, err := parseProto(x.proto)
	if err != nil {
		return x.unknown("needs -p tcp or udp")
	}
	out := x.out
	for _, o := range x.m.Options {
		switch o.Name {
		case "--dports", "--destination-ports", "--sports", "--source-ports":
			f := eval.DPort
			if o.Name == "--sports" || o.Name == "--source-ports" {
				f = eval.SPort
			}
			cond, err := c.portCond(f, p, o.Neg, o.Values[0])
			if err != nil {
				return x.bad(o, err)
			}
			out = append(out, cond)
			continue
		}
		rs, err := parseIptPorts(o.Values[0])
		if err != nil {
			return x.bad(o, err)
		}
		if o.Name != "--ports" {
			continue
		}
		// --ports: either port is one of them.
		either := eval.Or{
			eval.Port{Field: eval.DPort, Protos: []uint8{p}, Ranges: rs},
			eval.Port{Field: eval.SPort, Protos: []uint8{p}, Ranges: rs},
		}
		if o.Neg {
			out = append(out, eval.And{eval.Proto{Protos: []uint8{p}}, eval.Not{C: either}})
		} else {
			out = append(out, either)
		}
	}
	return out
}
