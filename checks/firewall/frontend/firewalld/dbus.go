package firewalld

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/godbus/dbus/v5"
)

// firewalld's D-Bus names (firewalld 1.x: org.fedoraproject.FirewallD1).
const (
	fwdBusName   = "org.fedoraproject.FirewallD1"
	fwdPath      = "/org/fedoraproject/FirewallD1"
	fwdInterface = "org.fedoraproject.FirewallD1"
	fwdZoneIface = fwdInterface + ".zone"
)

// dbusLimit bounds the whole runtime read, within the check's deadline.
const dbusLimit = 5 * time.Second

// ErrNotRunning means no firewalld answers on the bus.
var ErrNotRunning = errors.New("firewalld is not running")

// systemBusAddress is the bus firewalld is asked on: the given address,
// else $DBUS_SYSTEM_BUS_ADDRESS, else the standard socket.
func systemBusAddress(addr string) string {
	if addr != "" {
		return addr
	}
	if a := os.Getenv("DBUS_SYSTEM_BUS_ADDRESS"); a != "" {
		return a
	}
	return "unix:path=/var/run/dbus/system_bus_socket"
}

// readDBus reads the running daemon's state: its version, the
// default zone, every zone's runtime settings (getZoneSettings2) and the
// services they use. Every call is bounded by ctx.
func readDBus(ctx context.Context, addr string) (*Config, error) {
	ctx, cancel := context.WithTimeout(ctx, dbusLimit)
	defer cancel()
	// WithContext closes the connection when ctx ends, which also
	// unblocks the authentication handshake of a bus that never answers.
	conn, err := dbus.Connect(systemBusAddress(addr), dbus.WithContext(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("system bus %s: %w", systemBusAddress(addr), ctx.Err())
		}
		return nil, fmt.Errorf("system bus %s: %w", systemBusAddress(addr), err)
	}
	defer conn.Close()
	obj := conn.Object(fwdBusName, fwdPath)
	call := func(method string, out any, args ...any) error {
		err := obj.CallWithContext(ctx, method, 0, args...).Store(out)
		var de dbus.Error
		if errors.As(err, &de) && (de.Name == "org.freedesktop.DBus.Error.ServiceUnknown" || de.Name == "org.freedesktop.DBus.Error.NameHasNoOwner") {
			return ErrNotRunning
		}
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("%s: %w", method, ctx.Err())
		}
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		return nil
	}
	fw := &Config{Runtime: true, Zones: map[string]*Zone{}, Services: map[string]*Service{}}
	var version dbus.Variant
	if err := call("org.freedesktop.DBus.Properties.Get", &version, fwdInterface, "version"); err != nil {
		return nil, err
	}
	fw.Version, _ = version.Value().(string)
	if err := call(fwdInterface+".getDefaultZone", &fw.DefaultZone); err != nil {
		return nil, err
	}
	var names []string
	if err := call(fwdZoneIface+".getZones", &names); err != nil {
		return nil, err
	}
	if len(names) > maxZones {
		return nil, fmt.Errorf("firewalld reports %d zones, more than %d", len(names), maxZones)
	}
	services := map[string]bool{}
	for _, n := range names {
		var settings map[string]dbus.Variant
		if err := call(fwdZoneIface+".getZoneSettings2", &settings, n); err != nil {
			return nil, err
		}
		z, err := zoneFromSettings(n, settings)
		if err != nil {
			return nil, fmt.Errorf("zone %s: %w", n, err)
		}
		fw.Zones[n] = z
		for _, s := range z.Services {
			services[s] = true
		}
		for _, r := range z.Rules {
			if r.Element == "service" {
				services[r.Name] = true
			}
		}
	}
	for len(services) > 0 {
		for name := range services {
			delete(services, name)
			if _, done := fw.Services[name]; done {
				continue
			}
			var settings map[string]dbus.Variant
			if err := call(fwdInterface+".getServiceSettings2", &settings, name); err != nil {
				fw.Remarks = append(fw.Remarks, fmt.Sprintf("service %s: %v", name, err))
				continue
			}
			s, err := serviceFromSettings(name, settings)
			if err != nil {
				return nil, fmt.Errorf("service %s: %w", name, err)
			}
			fw.Services[name] = s
			for _, inc := range s.Includes {
				services[inc] = true
			}
		}
	}
	return fw, nil
}

// maxZones caps how many zones are read.
const maxZones = 1000

// zoneFromSettings converts getZoneSettings2's a{sv}; absent keys are
// empty (firewalld leaves out empty lists).
func zoneFromSettings(name string, s map[string]dbus.Variant) (*Zone, error) {
	z := &Zone{Name: name, Target: "default"}
	var err error
	get := func(key string, dst any) {
		if v, ok := s[key]; ok && err == nil {
			if e := v.Store(dst); e != nil {
				err = fmt.Errorf("%s: %w", key, e)
			}
		}
	}
	var ports, sports []struct{ Port, Proto string }
	var fports []struct{ Port, Proto, ToPort, ToAddr string }
	var rules []string
	get("target", &z.Target)
	get("sources", &z.Sources)
	get("interfaces", &z.Interfaces)
	get("services", &z.Services)
	get("protocols", &z.Protocols)
	get("ports", &ports)
	get("source_ports", &sports)
	get("forward_ports", &fports)
	get("rules_str", &rules)
	if err != nil {
		return nil, err
	}
	if z.Target == "REJECT" {
		z.Target = "%%REJECT%%"
	}
	for _, p := range ports {
		z.Ports = append(z.Ports, Port(p))
	}
	for _, p := range sports {
		z.SourcePorts = append(z.SourcePorts, Port(p))
	}
	for _, p := range fports {
		z.ForwardPorts = append(z.ForwardPorts, Forward(p))
	}
	for _, s := range rules {
		r, err := ParseRichRule(s)
		if err != nil {
			return nil, fmt.Errorf("rich rule %q: %w", s, err)
		}
		z.Rules = append(z.Rules, r)
	}
	return z, nil
}

// serviceFromSettings converts getServiceSettings2's a{sv}.
func serviceFromSettings(name string, s map[string]dbus.Variant) (*Service, error) {
	svc := &Service{Name: name}
	var ports []struct{ Port, Proto string }
	for key, dst := range map[string]any{"ports": &ports, "protocols": &svc.Protocols, "destination": &svc.Destination, "includes": &svc.Includes} {
		if v, ok := s[key]; ok {
			if err := v.Store(dst); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	for _, p := range ports {
		if p.Port == "" {
			svc.Protocols = append(svc.Protocols, p.Proto)
			continue
		}
		svc.Ports = append(svc.Ports, Port(p))
	}
	return svc, nil
}
