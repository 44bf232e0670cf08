package tiles

import (
	"bytes"
	"container/list"
	"github.com/klauspost/compress/gzip"
	"hash/crc32"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
)

// Entry is a rendered tile. A cached entry is kept gzipped only; a fresh one may hold the tile
// as it came (Raw) until it is compressed for the cache.
type Entry struct {
	// Gzip is the tile gzipped; nil until compressed, and for a tile without features.
	Gzip []byte
	// Raw is the tile as rendered, for an entry not yet compressed.
	Raw []byte
	// Size is the size of the tile itself.
	Size int
	// ETag is a strong entity tag of the tile's content.
	ETag string
}

// GzipMinSize is the smallest fresh tile worth compressing before it is sent: below it, gzip
// costs more (about a tenth of rendering a z14 tile) than the fifth of its bytes it saves.
// Every tile is compressed when it enters the cache.
const GzipMinSize = 32 << 10

// Fresh wraps a tile just rendered, compressing it now only if it is big (GzipMinSize).
func Fresh(tile []byte) *Entry {
	e := &Entry{Raw: tile, Size: len(tile), ETag: etagOf(tile)}
	if len(tile) >= GzipMinSize {
		e.Gzip = compress(tile)
	}
	return e
}

// Compressed returns the entry gzipped, for the cache (the entry itself if it is already).
func (e *Entry) Compressed() *Entry {
	if e.Gzip != nil || e.Size == 0 {
		return &Entry{Gzip: e.Gzip, Size: e.Size, ETag: e.ETag}
	}
	return &Entry{Gzip: compress(e.Raw), Size: e.Size, ETag: e.ETag}
}

// etagOf tags a tile by its content. CRC-32C runs in hardware; with the length it tells tiles
// apart well enough for revalidation, and it is the same on every server.
func etagOf(tile []byte) string {
	return `"` + strconv.FormatUint(uint64(crc32.Checksum(tile, castagnoli)), 16) + "-" + strconv.Itoa(len(tile)) + `"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// gzipWriters are reused: a new writer allocates hundreds of kilobytes of state.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// NewEntry returns a tile gzipped (fast level: tiles are served far more often than made) and
// tagged, as the cache keeps it.
func NewEntry(tile []byte) *Entry {
	return &Entry{Gzip: compress(tile), Size: len(tile), ETag: etagOf(tile)}
}

func compress(tile []byte) []byte {
	if len(tile) == 0 {
		return nil
	}
	b := bytes.NewBuffer(make([]byte, 0, len(tile)/2+64))
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(b)
	_, _ = zw.Write(tile)
	_ = zw.Close()
	gzipWriters.Put(zw)
	return b.Bytes()
}

// Tile returns the tile itself, unzipping it if needed (for the rare client that does not
// take gzip).
func (e *Entry) Tile() []byte {
	if e.Raw != nil || len(e.Gzip) == 0 {
		return e.Raw
	}
	zr, err := gzip.NewReader(bytes.NewReader(e.Gzip))
	if err != nil {
		return nil
	}
	b, _ := io.ReadAll(zr)
	return b
}

// Key names a cached tile.
type Key struct {
	Layer string
	ID
}

const (
	shardCount    = 64
	entryOverhead = 160 // bytes a cached entry costs beyond its data
	recentMax     = 1024
)

// Cache holds rendered tiles up to a memory budget, forgetting the least recently used first.
// Invalidate forgets exactly the tiles a change touches, at every zoom; a tile rendered from
// data read before an invalidation that touches it is never stored (Put's generation check).
// A Cache with a budget of 0 holds nothing. It is safe for concurrent use.
type Cache struct {
	budget int64
	shards [shardCount]shard

	mu     sync.Mutex // guards gen and recent
	gen    uint64
	recent []invalidation // the last recentMax invalidations, oldest first

	hits, misses, evictions atomic.Int64
}

type shard struct {
	mu      sync.Mutex
	entries map[Key]*list.Element
	lru     list.List // front: most recently used
	bytes   int64
}

type item struct {
	key   Key
	entry *Entry
}

type invalidation struct {
	gen    uint64
	layers []Layer
	bbox   orb.Bound
	all    bool
}

// NewCache returns a cache holding at most budget bytes of tiles.
func NewCache(budget int64) *Cache {
	c := &Cache{budget: budget}
	for i := range c.shards {
		c.shards[i].entries = map[Key]*list.Element{}
	}
	return c
}

func (c *Cache) shard(k Key) *shard {
	h := uint32(2166136261)
	for i := 0; i < len(k.Layer); i++ {
		h = (h ^ uint32(k.Layer[i])) * 16777619
	}
	h = (h ^ uint32(k.Z)) * 16777619
	h = (h ^ uint32(k.X)) * 16777619
	h = (h ^ uint32(k.Y)) * 16777619
	return &c.shards[h%shardCount]
}

// Enabled reports whether the cache holds anything at all.
func (c *Cache) Enabled() bool { return c != nil && c.budget > 0 }

// Get returns the cached tile for k.
func (c *Cache) Get(k Key) (*Entry, bool) {
	if !c.Enabled() {
		return nil, false
	}
	s := c.shard(k)
	var e *Entry
	s.mu.Lock()
	el, ok := s.entries[k]
	if ok {
		s.lru.MoveToFront(el)
		e = el.Value.(*item).entry
	}
	s.mu.Unlock()
	if !ok {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return e, true
}

// Generation returns the current generation: read it before reading a tile's data, and give
// it to Put.
func (c *Cache) Generation() uint64 {
	if !c.Enabled() {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Put stores a tile rendered from data read at generation gen, unless an invalidation since
// then touches it (the data may predate the change). It reports whether it stored the tile.
func (c *Cache) Put(k Key, e *Entry, gen uint64) bool {
	if !c.Enabled() || c.stale(k, gen) {
		return false
	}
	cost := int64(len(e.Gzip) + entryOverhead)
	s := c.shard(k)
	limit := c.budget / shardCount
	if cost > limit {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.entries[k]; ok {
		old := el.Value.(*item)
		s.bytes -= int64(len(old.entry.Gzip) + entryOverhead)
		old.entry = e
		s.lru.MoveToFront(el)
	} else {
		s.entries[k] = s.lru.PushFront(&item{key: k, entry: e})
	}
	s.bytes += cost
	for s.bytes > limit {
		el := s.lru.Back()
		it := el.Value.(*item)
		s.lru.Remove(el)
		delete(s.entries, it.key)
		s.bytes -= int64(len(it.entry.Gzip) + entryOverhead)
		c.evictions.Add(1)
	}
	return true
}

// stale reports whether an invalidation after gen touches k.
func (c *Cache) stale(k Key, gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		return false
	}
	if len(c.recent) == 0 || c.recent[0].gen > gen+1 {
		return true // invalidations we no longer remember came in between
	}
	for _, inv := range c.recent {
		if inv.gen <= gen {
			continue
		}
		if inv.all {
			return true
		}
		for _, l := range inv.layers {
			if l.Name == k.Layer && Covering(inv.bbox, k.Z, l.Margin).Contains(k.ID) {
				return true
			}
		}
	}
	return false
}

// directLimit is the largest number of tiles of one zoom that Invalidate deletes key by key;
// beyond it, it scans what is cached instead.
const directLimit = 256

// Invalidate forgets every cached tile that a change of kind inside the WGS 84 bound bbox
// touches: for every layer the kind affects, at every zoom of the layer, the tiles covering
// the bound and their neighbours within the layer's margin. It returns how many it forgot.
func (c *Cache) Invalidate(kind string, bbox orb.Bound) int {
	if !c.Enabled() {
		return 0
	}
	var layers []Layer
	for _, l := range Layers {
		if l.affectedBy(kind) {
			layers = append(layers, l)
		}
	}
	if len(layers) == 0 {
		return 0
	}
	c.record(invalidation{layers: layers, bbox: bbox})
	removed := 0
	var scan []Range
	var scanLayers []string
	for _, l := range layers {
		for z := l.MinZoom; z <= l.MaxZoom; z++ {
			r := Covering(bbox, z, l.Margin)
			if r.Count() > directLimit {
				scan = append(scan, r)
				scanLayers = append(scanLayers, l.Name)
				continue
			}
			for x := r.MinX; x <= r.MaxX; x++ {
				for y := r.MinY; y <= r.MaxY; y++ {
					if c.remove(Key{Layer: l.Name, ID: ID{Z: z, X: x, Y: y}}) {
						removed++
					}
				}
			}
		}
	}
	if len(scan) > 0 {
		removed += c.removeIf(func(k Key) bool {
			for i, r := range scan {
				if scanLayers[i] == k.Layer && r.Contains(k.ID) {
					return true
				}
			}
			return false
		})
	}
	return removed
}

// Flush forgets every tile (after a bulk change, or a lost change feed).
func (c *Cache) Flush() {
	if !c.Enabled() {
		return
	}
	c.record(invalidation{all: true})
	c.removeIf(func(Key) bool { return true })
}

func (c *Cache) record(inv invalidation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	inv.gen = c.gen
	if len(c.recent) == recentMax {
		copy(c.recent, c.recent[1:])
		c.recent = c.recent[:recentMax-1]
	}
	c.recent = append(c.recent, inv)
}

func (c *Cache) remove(k Key) bool {
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.entries[k]
	if !ok {
		return false
	}
	s.lru.Remove(el)
	delete(s.entries, k)
	s.bytes -= int64(len(el.Value.(*item).entry.Gzip) + entryOverhead)
	return true
}

func (c *Cache) removeIf(match func(Key) bool) int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		for k, el := range s.entries {
			if match(k) {
				s.lru.Remove(el)
				delete(s.entries, k)
				s.bytes -= int64(len(el.Value.(*item).entry.Gzip) + entryOverhead)
				n++
			}
		}
		s.mu.Unlock()
	}
	return n
}

// Stats are the cache's counters.
type Stats struct {
	Entries, Bytes, Hits, Misses, Evictions int64
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	if !c.Enabled() {
		return Stats{}
	}
	st := Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load()}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		st.Entries += int64(len(s.entries))
		st.Bytes += s.bytes
		s.mu.Unlock()
	}
	return st
}
