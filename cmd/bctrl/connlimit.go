package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimiter is a listener that serves at most max connections at once,
// like netutil.LimitListener, but does not let idle keep-alive connections
// starve new clients: at the limit, Accept closes the connection that has
// been idle longest (between two requests; a client's transport opens a
// new connection for its next request) and takes its place, instead of
// waiting up to --idle-timeout for it to time out. Only when every
// connection is busy (a request in flight, or headers not yet read, which
// --read-header-timeout bounds) does a new connection wait to be accepted.
//
// The http.Server must report its connections' states to track (set it as
// the server's ConnState).
type connLimiter struct {
	net.Listener
	max int

	wake chan struct{} // a slot may be free or a connection idle; capacity 1
	done chan struct{} // closed by Close
	once sync.Once

	mu   sync.Mutex
	open int
	idle map[net.Conn]time.Time // idle connections, by when they went idle
}

func newConnLimiter(ln net.Listener, max int) *connLimiter {
	return &connLimiter{
		Listener: ln,
		max:      max,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		idle:     map[net.Conn]time.Time{},
	}
}

// Accept waits for a free slot, closing the longest-idle connection to make
// one if there is none, then accepts a connection.
func (l *connLimiter) Accept() (net.Conn, error) {
	for !l.acquire() {
		select {
		case <-l.wake:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		l.release()
		return nil, err
	}
	return &limitedConn{Conn: c, l: l}, nil
}

// acquire takes a slot if one is free, or else closes the connection idle
// longest (freeing its slot) and reports false, so that Accept tries again.
func (l *connLimiter) acquire() bool {
	l.mu.Lock()
	if l.open < l.max {
		l.open++
		l.mu.Unlock()
		return true
	}
	var oldest net.Conn
	var since time.Time
	for c, t := range l.idle {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	delete(l.idle, oldest)
	l.mu.Unlock()
	if oldest != nil {
		oldest.Close() // releases its slot and wakes Accept
	}
	return false
}

func (l *connLimiter) release() {
	l.mu.Lock()
	l.open--
	l.mu.Unlock()
	l.signal()
}

func (l *connLimiter) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// track is the http.Server's ConnState hook.
func (l *connLimiter) track(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	if st == http.StateIdle {
		l.idle[c] = time.Now()
	} else {
		delete(l.idle, c)
	}
	l.mu.Unlock()
	if st == http.StateIdle {
		l.signal()
	}
}

// Close closes the listener and ends a wait in Accept.
func (l *connLimiter) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitedConn frees its slot in its connLimiter once, when first closed.
type limitedConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.idle, c)
		c.l.mu.Unlock()
		c.l.release()
	})
	return err
}
