package web

import (
	"sync"
	"time"

	"github.com/vungtrong/vungtrong/registry"
)

// LookupCache keeps the answers of code lookups for a few seconds: a code printed on a carton
// is looked up again and again, and the answer changes only when a code, its area or its
// packing house does (Forget, on every server through the change feed) or, for the area's size
// and households, slowly (the time to live). Safe for concurrent use.
type LookupCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	gen     uint64
	entries map[string]lookupEntry
}

type lookupEntry struct {
	v  any // a *registry.CodeLookup, or a rendered page
	at time.Time
}

// lookupCacheMax bounds the entries: past it the cache starts again empty.
const lookupCacheMax = 10000

// NewLookupCache returns a cache keeping lookups for ttl (0: no cache).
func NewLookupCache(ttl time.Duration) *LookupCache {
	if ttl <= 0 {
		return nil
	}
	return &LookupCache{ttl: ttl, entries: map[string]lookupEntry{}}
}

// Forget drops every lookup: a code, a growing area or a packing house changed.
func (c *LookupCache) Forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
}

// get returns a fresh lookup of key, and the generation to put a new one with.
func (c *LookupCache) get(key string) (*registry.CodeLookup, uint64, bool) {
	v, gen, ok := c.getAny("lookup:" + key)
	l, _ := v.(*registry.CodeLookup)
	return l, gen, ok && l != nil
}

// put keeps a lookup read in generation gen, unless something changed since.
func (c *LookupCache) put(key string, l *registry.CodeLookup, gen uint64) {
	c.putAny("lookup:"+key, l, gen)
}

// getAny returns a fresh value of key, and the generation to put a new one with.
func (c *LookupCache) getAny(key string) (any, uint64, bool) {
	if c == nil {
		return nil, 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || time.Since(e.at) > c.ttl {
		return nil, c.gen, false
	}
	return e.v, c.gen, true
}

// putAny keeps a value made in generation gen, unless something changed since.
func (c *LookupCache) putAny(key string, v any, gen uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.entries) >= lookupCacheMax {
		clear(c.entries)
	}
	c.entries[key] = lookupEntry{v: v, at: time.Now()}
}
