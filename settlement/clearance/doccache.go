package clearance

import (
	"log/slog"
	"sync"

	"github.com/google/uuid"
)

// docCacheSize bounds the document cache: a minute or so of peak traffic,
// some 100 MB.
const docCacheSize = 64 * MaxBatch

// docCache keeps the documents this process stored lately, by id, decoded
// from their stored JSON exactly as the matcher would decode them from the
// store. A stored version never changes, so an entry is never stale. Most
// chains are matched within moments of their documents' arrival, by the
// worker of the same process (xbsettle all), which then reads no body and
// decodes nothing again; a miss (another process, an old document) reads
// the body as before. Cached documents are shared: nothing may modify them.
type docCache struct {
	mu   sync.Mutex
	byID map[uuid.UUID]Document
	ring []uuid.UUID // insertion order; the oldest goes first
	next int
}

// get returns the cached document of id, or nil.
func (c *docCache) get(id uuid.UUID) Document {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byID[id]
}

// put caches the stored rows: each decoded from its body, so that what the
// matcher gets does not depend on whether it hit.
func (c *docCache) put(rows []*docRow) {
	docs := make([]Document, len(rows))
	for i, r := range rows {
		d, err := DecodeStored(r.Message, r.Body, r.SID)
		if err != nil {
			// Not worth failing for: the matcher will read it and say why.
			slog.Warn("cache a stored document", "id", r.ID, "err", err)
			continue
		}
		docs[i] = d
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID, c.ring = make(map[uuid.UUID]Document, docCacheSize), make([]uuid.UUID, docCacheSize)
	}
	for i, r := range rows {
		if docs[i] == nil {
			continue
		}
		if old := c.ring[c.next]; old != uuid.Nil {
			delete(c.byID, old)
		}
		c.ring[c.next], c.byID[r.ID] = r.ID, docs[i]
		c.next = (c.next + 1) % len(c.ring)
	}
}
