package clearance

import (
	"sync"

	"github.com/google/uuid"
)

// docCacheSize bounds the document cache: 256,000 documents, 300 to 600
// MB. Under a burst the matcher may lag the API by that much and still find
// the documents here: in the bench (100,000 chains), a cache of 64,000 and
// one of 128,000 decoded at once missed 71% and 53% of them.
const docCacheSize = 256 * MaxBatch

// docCache keeps the versions this process stored lately, by id: their
// stored JSON, decoded the first time the matcher asks, exactly as it would
// decode it from the store. A stored version never changes, so an entry is
// never stale. Most chains are matched within moments of their documents'
// arrival, by the worker of the same process (xbsettle all), which then
// reads no body; a miss (another process, an old document) reads the body
// as before. Decoded documents are shared: nothing may modify them.
type docCache struct {
	mu   sync.Mutex
	byID map[uuid.UUID]*cachedDoc
	ring []uuid.UUID // insertion order; the oldest goes first
	next int
}

type cachedDoc struct {
	message MessageType
	body    []byte
	id      StoredID
	doc     Document // once decoded
}

// get returns the document of id, decoding it on first use, or nil when it
// is not cached (or does not decode: the caller reads it and says why).
func (c *docCache) get(id uuid.UUID) Document {
	c.mu.Lock()
	e := c.byID[id]
	var d Document
	if e != nil {
		d = e.doc
	}
	c.mu.Unlock()
	if e == nil || d != nil {
		return d
	}
	// One evaluation at a time holds a chain (chainLocks), so a document is
	// decoded by one goroutine; a second one would decode it again, no more.
	d, err := DecodeStored(e.message, e.body, e.id)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	e.doc, e.body = d, nil
	c.mu.Unlock()
	return d
}

// put caches stored rows.
func (c *docCache) put(rows []*docRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID, c.ring = make(map[uuid.UUID]*cachedDoc, docCacheSize), make([]uuid.UUID, docCacheSize)
	}
	for _, r := range rows {
		if old := c.ring[c.next]; old != uuid.Nil {
			delete(c.byID, old)
		}
		c.ring[c.next], c.byID[r.ID] = r.ID, &cachedDoc{message: r.Message, body: r.Body, id: r.SID}
		c.next = (c.next + 1) % len(c.ring)
	}
}
