package testenv

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy relays TCP connections to the test PostgreSQL, so that a test can
// take the database away from a pool and give it back — as a restart or a
// network cut would — without touching the server the other tests share.
type Proxy struct {
	t      testing.TB
	addr   string // where it listens, the same after each Start
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

// NewProxy starts a proxy to the server of database URL u and returns it
// with u pointed through it. It stops when the test ends.
func NewProxy(t testing.TB, u string) (*Proxy, string) {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("database URL: %v", err)
	}
	p := &Proxy{t: t, addr: "127.0.0.1:0", target: parsed.Host, conns: map[net.Conn]struct{}{}}
	p.Start()
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.Stop)
	parsed.Host = p.addr
	return p, parsed.String()
}

// Start listens (again) and relays what connects.
func (p *Proxy) Start() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listen on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.accept(ln)
}

// Stop stops listening and cuts every relayed connection: new connections
// are refused, open ones break mid-statement.
func (p *Proxy) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return // stopped
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client, server) {
			return
		}
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

// track remembers the pair for Stop, unless Stop came first.
func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}
