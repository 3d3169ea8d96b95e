package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/xbsettle/xbsettle/internal/apperr"
	"github.com/xbsettle/xbsettle/ledger"
	"github.com/xbsettle/xbsettle/settlement"
	"github.com/xbsettle/xbsettle/settlement/clearance"
)

// Bounds every JSON body meets before it is decoded (docs/api.md, "Input
// rules"). maxJSONElements is the longest list any endpoint takes, so that
// a batch is refused at its first element too many, not after decoding it.
const (
	maxJSONDepth    = 16
	maxJSONMembers  = 100
	maxJSONElements = max(ledger.MaxBatch, settlement.MaxItems, settlement.MaxRateLoad, clearance.MaxBatch)
	maxJSONNumber   = 40 // characters of a JSON number
	guardCtxEvery   = 1 << 12
)

// Field error codes of the guard; clearance answers the same for documents.
const (
	codeDuplicateField   = clearance.CodeDuplicateField
	codeControlCharacter = clearance.CodeControlCharacter
	codeTooManyFields    = clearance.CodeTooManyFields
	codeTooManyElements  = "TOO_MANY_ELEMENTS"
	codeTooDeep          = "NESTING_TOO_DEEP"
	codeNumberInvalid    = "NUMBER_INVALID"
)

// guardJSON checks a syntactically valid JSON text in one pass, before
// anything is decoded from it: no member twice in an object (encoding/json
// would let the last one win), no control character in any string or name
// (Unicode Cc, U+0000–U+001F and U+007F–U+009F, tab and newline included,
// escaped or not), every number a plain decimal (-?digits[.digits]) of at
// most maxJSONNumber characters. Objects nest at most maxJSONDepth deep,
// hold at most maxJSONMembers members and arrays maxJSONElements elements:
// there reading stops with that one error. Otherwise every problem is
// collected, the first apperr.MaxFields listed and all counted. ctx is
// checked as it goes.
func guardJSON(ctx context.Context, data []byte) error {
	g := jsonGuard{ctx: ctx, data: data, text: string(data)}
	g.skipSpace()
	if err := g.value(); err != nil {
		return err
	}
	if g.total > 0 {
		return apperr.InvalidOf(g.errs, g.total)
	}
	return nil
}

// jsonGuard walks one JSON text that json.Valid accepted. text is data as
// a string, so that member names are substrings, not copies.
type jsonGuard struct {
	ctx   context.Context
	data  []byte
	text  string
	pos   int
	steps int
	path  []pathStep // where the value being read is
	names []string   // the member names of every open object, innermost last
	errs  []apperr.FieldError
	total int
}

// pathStep is a member name, or an array index when name is "" and index
// is not -1.
type pathStep struct {
	name  string
	index int
}

// field is the current path as the API names fields: postings[2].amount.
func (g *jsonGuard) field() string {
	var b []byte
	for _, p := range g.path {
		if p.index >= 0 {
			b = append(append(append(b, '['), strconv.Itoa(p.index)...), ']')
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, p.name...)
	}
	return string(b)
}

func (g *jsonGuard) fail(code, format string, args ...any) {
	g.total++
	if len(g.errs) < apperr.MaxFields {
		g.errs = append(g.errs, apperr.FieldError{Field: g.field(), Code: code, Message: fmt.Sprintf(format, args...)})
	}
}

// stop is the one error for a body past a limit: nothing else is reported.
func (g *jsonGuard) stop(code, format string, args ...any) error {
	return apperr.Invalid([]apperr.FieldError{{Field: g.field(), Code: code, Message: fmt.Sprintf(format, args...)}})
}

func (g *jsonGuard) skipSpace() {
	for g.pos < len(g.data) {
		switch g.data[g.pos] {
		case ' ', '\t', '\r', '\n':
			g.pos++
		default:
			return
		}
	}
}

// value reads the value at pos.
func (g *jsonGuard) value() error {
	if g.steps++; g.steps%guardCtxEvery == 0 {
		if err := g.ctx.Err(); err != nil {
			return err
		}
	}
	switch c := g.data[g.pos]; {
	case c == '{':
		return g.object()
	case c == '[':
		return g.array()
	case c == '"':
		_, _, hasControl := g.str()
		if hasControl {
			g.fail(codeControlCharacter, "control characters (U+0000–U+001F, U+007F–U+009F) are not accepted, tab and newline included")
		}
	case c == '-' || c >= '0' && c <= '9':
		g.number()
	default: // true, false, null
		for g.pos < len(g.data) && g.data[g.pos] >= 'a' && g.data[g.pos] <= 'z' {
			g.pos++
		}
	}
	return nil
}

func (g *jsonGuard) object() error {
	if len(g.path) >= maxJSONDepth {
		return g.stop(codeTooDeep, "JSON nests at most %d levels deep", maxJSONDepth)
	}
	g.pos++ // {
	first := len(g.names)
	var seen map[string]struct{} // once the object has many members
	defer func() { g.names = g.names[:first] }()
	for n := 0; ; n++ {
		g.skipSpace()
		if g.data[g.pos] == '}' {
			g.pos++
			return nil
		}
		if g.data[g.pos] == ',' {
			g.pos++
			g.skipSpace()
		}
		name, escaped, hasControl := g.str()
		if name = name[1 : len(name)-1]; escaped {
			name = unescape(name)
		}
		g.path = append(g.path, pathStep{name: name, index: -1})
		if n == maxJSONMembers {
			return g.stop(codeTooManyFields, "an object has at most %d members; reading stopped here", maxJSONMembers)
		}
		switch {
		case hasControl:
			g.fail(codeControlCharacter, "a member name holds a control character")
		case seen != nil:
			if _, dup := seen[name]; dup {
				g.fail(codeDuplicateField, "this member is given more than once")
			}
			seen[name] = struct{}{}
		default:
			for _, prev := range g.names[first:] {
				if prev == name {
					g.fail(codeDuplicateField, "this member is given more than once")
					break
				}
			}
			if g.names = append(g.names, name); len(g.names)-first > linearNames {
				seen = make(map[string]struct{}, 2*maxJSONMembers)
				for _, prev := range g.names[first:] {
					seen[prev] = struct{}{}
				}
			}
		}
		g.skipSpace()
		g.pos++ // :
		g.skipSpace()
		if err := g.value(); err != nil {
			return err
		}
		g.path = g.path[:len(g.path)-1]
		g.skipSpace()
	}
}

// linearNames is up to how many members a duplicate is looked for by
// comparing names; beyond, by a set, so that no object is quadratic.
const linearNames = 32

func (g *jsonGuard) array() error {
	if len(g.path) >= maxJSONDepth {
		return g.stop(codeTooDeep, "JSON nests at most %d levels deep", maxJSONDepth)
	}
	g.pos++ // [
	for i := 0; ; i++ {
		g.skipSpace()
		if g.data[g.pos] == ']' {
			g.pos++
			return nil
		}
		if g.data[g.pos] == ',' {
			g.pos++
			g.skipSpace()
		}
		g.path = append(g.path, pathStep{index: i})
		if i == maxJSONElements {
			g.path = g.path[:len(g.path)-1]
			return g.stop(codeTooManyElements, "a list has at most %d elements; reading stopped after them", maxJSONElements)
		}
		if err := g.value(); err != nil {
			return err
		}
		g.path = g.path[:len(g.path)-1]
	}
}

// str moves past the string at pos and returns it as written, quotes
// included; escaped tells whether it holds escapes, hasControl whether it
// holds a control character, raw or escaped.
func (g *jsonGuard) str() (raw string, escaped, hasControl bool) {
	start := g.pos
	i := g.pos + 1
	for {
		c := g.data[i]
		switch {
		case c == '"':
			g.pos = i + 1
			return g.text[start:g.pos], escaped, hasControl
		case c == '\\':
			escaped = true
			switch g.data[i+1] {
			case 'b', 'f', 'n', 'r', 't':
				hasControl = true
			case 'u':
				r, _ := strconv.ParseUint(g.text[i+2:i+6], 16, 32)
				hasControl = hasControl || isControl(rune(r))
				i += 4
			}
			i += 2
		case c < utf8.RuneSelf:
			hasControl = hasControl || c < 0x20 || c == 0x7f
			i++
		default:
			r, size := utf8.DecodeRune(g.data[i:])
			hasControl = hasControl || isControl(r)
			i += size
		}
	}
}

// unescape is the content of a JSON string with escapes, which json.Valid
// vouched for.
func unescape(content string) string {
	var out string
	_ = json.Unmarshal([]byte(`"`+content+`"`), &out)
	return out
}

// isControl is Unicode's Cc, what unicode.IsControl reports, without its
// table look-up.
func isControl(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }

// number moves past the number at pos, noting one that is not a plain
// decimal of sane length: 1e1000000 is valid JSON, but PostgreSQL refuses
// it, and 1e131000 would be stored and answered as 131,000 digits.
func (g *jsonGuard) number() {
	start := g.pos
	plain := true
	for g.pos < len(g.data) {
		c := g.data[g.pos]
		if c == 'e' || c == 'E' || c == '+' {
			plain = false
		} else if c != '-' && c != '.' && (c < '0' || c > '9') {
			break
		}
		g.pos++
	}
	if !plain || g.pos-start > maxJSONNumber {
		g.fail(codeNumberInvalid, "a JSON number here is a plain decimal such as 12.5, at most %d characters, without exponent", maxJSONNumber)
	}
}
