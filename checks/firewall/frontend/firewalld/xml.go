package firewalld

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sensu-community/sensu-redis-security-checks/checks/cidr"
)

// maxFile caps one zone, service or firewalld.conf file.
const maxFile = 1 << 20

// ErrXML marks zone or service XML that cannot be read.
var ErrXML = errors.New("bad firewalld XML")

// xmlElems walks an XML document and calls fn for every start element
// with its path ("zone/rule/source"), attributes and line. The input is
// capped; errors carry the line.
func xmlElems(r io.Reader, root string, fn func(path string, attrs map[string]string, line int) error) error {
	data, err := io.ReadAll(io.LimitReader(r, maxFile+1))
	if err != nil {
		return err
	}
	if len(data) > maxFile {
		return fmt.Errorf("%w: larger than %d bytes", ErrXML, maxFile)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var stack []string
	seenRoot := false
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return fmt.Errorf("%w: line %d: %s", ErrXML, se.Line, se.Msg)
			}
			return fmt.Errorf("%w: line %d: %v", ErrXML, line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ = d.InputPos()
			if len(stack) == 0 {
				if seenRoot {
					return fmt.Errorf("%w: line %d: <%s> after the root element", ErrXML, line, t.Name.Local)
				}
				if t.Name.Local != root {
					return fmt.Errorf("%w: line %d: root element <%s>, want <%s>", ErrXML, line, t.Name.Local, root)
				}
				seenRoot = true
			}
			if len(stack) >= 8 {
				return fmt.Errorf("%w: line %d: nested too deeply", ErrXML, line)
			}
			stack = append(stack, t.Name.Local)
			attrs := make(map[string]string, len(t.Attr))
			for _, a := range t.Attr {
				attrs[a.Name.Local] = a.Value
			}
			if err := fn(strings.Join(stack, "/"), attrs, line); err != nil {
				return fmt.Errorf("%w: line %d: %v", ErrXML, line, err)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if !seenRoot {
		return fmt.Errorf("%w: no <%s> element", ErrXML, root)
	}
	return nil
}

func need(attrs map[string]string, names ...string) error {
	for _, n := range names {
		if attrs[n] == "" {
			return fmt.Errorf("missing attribute %q", n)
		}
	}
	return nil
}

// ParseZone reads a zone XML file (zones/NAME.xml); the name is
// the caller's, from the file name.
func ParseZone(r io.Reader) (*Zone, error) {
	z := &Zone{Target: "default"}
	var rule *RichRule
	err := xmlElems(r, "zone", func(path string, a map[string]string, _ int) error {
		if strings.HasPrefix(path, "zone/rule/") {
			return richXMLElem(rule, strings.TrimPrefix(path, "zone/rule/"), a)
		}
		switch path {
		case "zone":
			if t := a["target"]; t != "" {
				switch t {
				case "default", "ACCEPT", "DROP", "%%REJECT%%":
				case "REJECT":
					t = "%%REJECT%%"
				default:
					return fmt.Errorf("target %q", t)
				}
				z.Target = t
			}
		case "zone/interface":
			if err := need(a, "name"); err != nil {
				return err
			}
			z.Interfaces = append(z.Interfaces, a["name"])
		case "zone/source":
			switch {
			case a["address"] != "":
				if _, err := cidr.Parse(a["address"]); err != nil {
					return fmt.Errorf("source address %q", a["address"])
				}
				z.Sources = append(z.Sources, a["address"])
			case a["mac"] != "":
				z.Sources = append(z.Sources, a["mac"])
			case a["ipset"] != "":
				z.Sources = append(z.Sources, "ipset:"+a["ipset"])
			default:
				return fmt.Errorf("source without address, mac or ipset")
			}
		case "zone/service":
			if err := need(a, "name"); err != nil {
				return err
			}
			z.Services = append(z.Services, a["name"])
		case "zone/port", "zone/source-port":
			if err := need(a, "port", "protocol"); err != nil {
				return err
			}
			if _, _, err := portRange(a["port"]); err != nil {
				return err
			}
			p := Port{a["port"], a["protocol"]}
			if path == "zone/port" {
				z.Ports = append(z.Ports, p)
			} else {
				z.SourcePorts = append(z.SourcePorts, p)
			}
		case "zone/protocol":
			if err := need(a, "value"); err != nil {
				return err
			}
			z.Protocols = append(z.Protocols, a["value"])
		case "zone/forward-port":
			if err := need(a, "port", "protocol"); err != nil {
				return err
			}
			z.ForwardPorts = append(z.ForwardPorts, Forward{a["port"], a["protocol"], a["to-port"], a["to-addr"]})
		case "zone/rule":
			if rule != nil {
				if err := rule.complete(); err != nil {
					return err
				}
			}
			z.Rules = append(z.Rules, RichRule{})
			rule = &z.Rules[len(z.Rules)-1]
			return richXMLElem(rule, "", a)
		}
		// short, description, icmp-block, forward, masquerade, …: not
		// needed to decide a TCP port.
		return nil
	})
	if err == nil && rule != nil {
		err = rule.complete()
	}
	if err != nil {
		return nil, err
	}
	return z, nil
}

// richXMLElem fills a rich rule from one element of <rule> (elem "" is
// the rule itself).
func richXMLElem(r *RichRule, elem string, a map[string]string) error {
	section := strings.SplitN(elem, "/", 2)[0]
	if strings.Contains(elem, "/") {
		// <limit> inside an action or log.
		if strings.HasSuffix(elem, "/limit") {
			switch section {
			case "accept", "reject", "drop", "mark":
				r.Limit = true
			}
		}
		return nil
	}
	set := func(k, v string) error {
		if v == "" {
			return nil
		}
		return r.setAttr(section, &r.Source, k, v)
	}
	switch section {
	case "":
		for _, k := range []string{"family", "priority"} {
			if a[k] != "" {
				if err := r.setAttr("rule", nil, k, a[k]); err != nil {
					return err
				}
			}
		}
	case "source", "destination":
		addr := &r.Source
		if section == "destination" {
			addr = &r.Destination
		}
		for _, k := range []string{"address", "mac", "ipset"} {
			if a[k] != "" {
				if err := r.setAttr(section, addr, k, a[k]); err != nil {
					return err
				}
			}
		}
		if addr.Kind == "" {
			return fmt.Errorf("rule %s without address, mac or ipset", section)
		}
		addr.Invert = strings.EqualFold(a["invert"], "true") || a["invert"] == "1" || strings.EqualFold(a["invert"], "yes")
	case "service", "port", "protocol", "source-port", "icmp-block", "icmp-type", "masquerade", "forward-port":
		if r.Element != "" {
			return fmt.Errorf("rule with two elements (%s, %s)", r.Element, section)
		}
		r.Element = section
		for _, k := range []string{"name", "port", "protocol", "value"} {
			if err := set(k, a[k]); err != nil {
				return err
			}
		}
	case "log":
		r.Log = true
	case "nflog":
		r.NFLog = true
	case "audit":
		r.Audit = true
	case "accept", "reject", "drop", "mark":
		if r.Action != "" {
			return fmt.Errorf("rule with two actions")
		}
		r.Action = section
	default:
		return fmt.Errorf("unknown rule element <%s>", section)
	}
	return nil
}

// ParseService reads a service XML file (services/NAME.xml).
func ParseService(r io.Reader) (*Service, error) {
	s := &Service{}
	err := xmlElems(r, "service", func(path string, a map[string]string, _ int) error {
		switch path {
		case "service/port":
			if err := need(a, "protocol"); err != nil {
				return err
			}
			// A port without a number opens the whole protocol.
			if a["port"] == "" {
				s.Protocols = append(s.Protocols, a["protocol"])
				return nil
			}
			if _, _, err := portRange(a["port"]); err != nil {
				return err
			}
			s.Ports = append(s.Ports, Port{a["port"], a["protocol"]})
		case "service/protocol":
			if err := need(a, "value"); err != nil {
				return err
			}
			s.Protocols = append(s.Protocols, a["value"])
		case "service/destination":
			s.Destination = map[string]string{}
			for _, k := range []string{"ipv4", "ipv6"} {
				if a[k] != "" {
					s.Destination[k] = a[k]
				}
			}
		case "service/include":
			if err := need(a, "service"); err != nil {
				return err
			}
			s.Includes = append(s.Includes, a["service"])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// parseConf reads DefaultZone and StrictForwardPorts from
// firewalld.conf (KEY=value lines; # comments).
func parseConf(r io.Reader) (defaultZone, strict string, err error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFile+1))
	if err != nil {
		return "", "", err
	}
	if len(data) > maxFile {
		return "", "", fmt.Errorf("firewalld.conf: larger than %d bytes", maxFile)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxFile)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return "", "", fmt.Errorf("firewalld.conf: line %d: no '='", n)
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		switch strings.TrimSpace(k) {
		case "DefaultZone":
			defaultZone = v
		case "StrictForwardPorts":
			strict = v
		}
	}
	return defaultZone, strict, sc.Err()
}
