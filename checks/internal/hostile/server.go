// Package hostile is a fake Redis server that answers each command from a
// script of replies, valid or mutated (huge lengths, wrong types, endless
// streams, slow drip, RESP3 pushes and attributes, errors echoing the
// request, abrupt close, silence), and a fuzzer that runs every check binary
// that talks to Redis against it. Scripts are JSON so a failing case can be
// kept in testdata/ and replayed.
package hostile

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Script is what the fake server answers. Replies are looked up by the
// command's first three, two, then one upper-cased words ("CONFIG GET BIND",
// "ACL LIST", "PING"); Default answers anything else.
type Script struct {
	// Password, when set, is what AUTH or HELLO … AUTH must carry to switch
	// the connection from Anon to Authed replies.
	Password string            `json:"password,omitempty"`
	Anon     map[string]Action `json:"anon"`
	Authed   map[string]Action `json:"authed,omitempty"`
	Default  Action            `json:"default"`
}

// Action is one reply and how it is delivered.
type Action struct {
	Send string `json:"send"`
	// Mode: "" (write Send), "close" (write Send, then close), "silence"
	// (write Send, then never answer again), "drip" (one byte per DripMS),
	// "endless" (write Send over and over until the client goes away).
	Mode   string `json:"mode,omitempty"`
	DripMS int    `json:"drip_ms,omitempty"`
	// Echo replaces Send with an error reply holding the request's bytes.
	Echo bool `json:"echo,omitempty"`
	// Mutated marks a reply no consistent, valid Redis sends.
	Mutated bool `json:"mutated,omitempty"`
	// Config marks a changed reply that a real Redis does send when so
	// configured (a renamed command, an ACL denial): an OK after it is
	// not a false OK by itself. The real-server tests judge those
	// configurations; the peer here proves nothing hostile by them.
	Config bool `json:"config,omitempty"`
}

// Server serves a Script on loopback.
type Server struct {
	ln     net.Listener
	script Script

	mu sync.Mutex
	// MutatedServed counts mutated replies that reached the client in
	// full, or in part when the mode cuts them short.
	mutatedServed int
	configServed  int
	served        []string
	conns         map[net.Conn]bool
	wg            sync.WaitGroup
	closed        chan struct{}
}

// maxEndless bounds what an endless reply writes: far above every cap of
// the checks, far below what would hurt the test machine.
const maxEndless = 64 << 20

// Start listens on 127.0.0.1 (TLS when cfg is not nil) and serves s until
// Close.
func Start(s Script, cfg *tls.Config) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		ln = tls.NewListener(ln, cfg)
	}
	srv := &Server{ln: ln, script: s, conns: map[net.Conn]bool{}, closed: make(chan struct{})}
	srv.wg.Add(1)
	go srv.accept()
	return srv, nil
}

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// MutatedServed reports whether a mutated reply was sent, whether a
// reply of a real configuration (Config) was, and the commands answered,
// in order.
func (s *Server) MutatedServed() (mutated, config bool, served []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mutatedServed > 0, s.configServed > 0, append([]string(nil), s.served...)
}

// Close stops the server and every connection, and waits for them.
func (s *Server) Close() {
	close(s.closed)
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.serve(c)
		}()
	}
}

func (s *Server) serve(c net.Conn) {
	r := bufio.NewReader(c)
	authed := false
	for {
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		args, raw, err := readCommand(r)
		if err != nil {
			return
		}
		if s.script.Password != "" && carriesPassword(args, s.script.Password) {
			authed = true
		}
		key, a := s.lookup(args, authed)
		a.Send = strings.ReplaceAll(a.Send, PortToken, fmt.Sprintf("%05d", s.Port()))
		if a.Echo {
			a.Send = "-" + strings.NewReplacer("\r", " ", "\n", " ").Replace(raw) + "\r\n"
		}
		s.mu.Lock()
		s.served = append(s.served, key)
		s.mu.Unlock()
		if !s.deliver(c, a) {
			return
		}
	}
}

// deliver writes one reply; false ends the connection.
func (s *Server) deliver(c net.Conn, a Action) bool {
	_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	mark := func() {
		s.mu.Lock()
		switch {
		case a.Config:
			s.configServed++
		case a.Mutated:
			s.mutatedServed++
		}
		s.mu.Unlock()
	}
	switch a.Mode {
	case "drip":
		d := time.Duration(max(a.DripMS, 1)) * time.Millisecond
		for i := range len(a.Send) {
			if _, err := c.Write([]byte{a.Send[i]}); err != nil {
				mark() // cut short: the client saw a partial reply
				return false
			}
			select {
			case <-time.After(d):
			case <-s.closed:
				return false
			}
		}
		return true // complete: only slow, which a real server may be
	case "endless":
		mark()
		b := []byte(strings.Repeat(a.Send, max(1, 4096/max(1, len(a.Send)))))
		for n := 0; n < maxEndless; n += len(b) {
			if _, err := c.Write(b); err != nil {
				return false
			}
		}
		return false
	}
	mark()
	if _, err := io.WriteString(c, a.Send); err != nil {
		return false
	}
	switch a.Mode {
	case "close":
		return false
	case "silence":
		select {
		case <-s.closed:
		case <-time.After(30 * time.Second):
		}
		return false
	}
	return true
}

func (s *Server) lookup(args []string, authed bool) (string, Action) {
	m := s.script.Anon
	if authed && s.script.Authed != nil {
		m = s.script.Authed
	}
	for n := min(3, len(args)); n > 0; n-- {
		k := strings.ToUpper(strings.Join(args[:n], " "))
		if a, ok := m[k]; ok {
			return k, a
		}
	}
	if len(args) > 0 {
		return strings.ToUpper(args[0]) + " (default)", s.script.Default
	}
	return "(empty)", s.script.Default
}

func carriesPassword(args []string, pw string) bool {
	if len(args) == 0 {
		return false
	}
	switch strings.ToUpper(args[0]) {
	case "AUTH":
		return args[len(args)-1] == pw
	case "HELLO":
		for i := 1; i+2 < len(args); i++ {
			if strings.EqualFold(args[i], "AUTH") && args[i+2] == pw {
				return true
			}
		}
	}
	return false
}

var errRequest = errors.New("not a command")

// readCommand reads one RESP array of bulk strings, or an inline line,
// bounded as a server would be.
func readCommand(r *bufio.Reader) (args []string, raw string, err error) {
	line, err := readLine(r)
	if err != nil {
		return nil, "", err
	}
	raw = line + "\r\n"
	if !strings.HasPrefix(line, "*") {
		return strings.Fields(line), raw, nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 || n > 64 {
		return nil, raw, errRequest
	}
	for range n {
		h, err := readLine(r)
		if err != nil {
			return nil, raw, err
		}
		l, err := strconv.Atoi(strings.TrimPrefix(h, "$"))
		if !strings.HasPrefix(h, "$") || err != nil || l < 0 || l > 1<<20 {
			return nil, raw, errRequest
		}
		b := make([]byte, l+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, raw, err
		}
		args = append(args, string(b[:l]))
		raw += h + "\r\n" + string(b)
	}
	return args, raw, nil
}

func readLine(r *bufio.Reader) (string, error) {
	var b strings.Builder
	for b.Len() < 64<<10 {
		c, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return strings.TrimSuffix(b.String(), "\r"), nil
		}
		b.WriteByte(c)
	}
	return "", errRequest
}
