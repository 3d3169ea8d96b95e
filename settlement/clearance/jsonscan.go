package clearance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Every document passes through here on its way in and every time the
// matcher reads it back, so it is read in one pass over the bytes rather
// than with encoding/json's token stream (several times slower, and an
// allocation per token). The input is checked whole with json.Valid first
// when it comes from outside; the scanner then only has to split it, and
// still refuses, rather than panics on, anything it does not expect.

// errJSONShape is what the scanner reports on input it cannot split; after
// json.Valid it does not happen.
var errJSONShape = fmt.Errorf("unexpected JSON")

// jsonScanner walks one JSON text. text is data as one string: the values
// read are substrings of it, one allocation for the whole document.
type jsonScanner struct {
	data []byte
	text string
	pos  int
}

func newJSONScanner(data []byte) *jsonScanner {
	return &jsonScanner{data: data, text: string(data)}
}

func (s *jsonScanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// next is the next byte after white space, 0 at the end.
func (s *jsonScanner) next() byte {
	s.skipSpace()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// value moves past the value at pos and returns where it starts.
func (s *jsonScanner) value() (int, error) {
	start := s.pos
	if s.pos >= len(s.data) {
		return 0, errJSONShape
	}
	switch s.data[s.pos] {
	case '"':
		return start, s.skipString()
	case '{', '[':
		depth := 0
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case '"':
				if err := s.skipString(); err != nil {
					return 0, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.pos++
			if depth == 0 {
				return start, nil
			}
		}
		return 0, errJSONShape
	}
	// A number, true, false or null.
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return start, nil
		}
		s.pos++
	}
	return start, nil
}

// skipString moves past the string starting at pos.
func (s *jsonScanner) skipString() error {
	for i := s.pos + 1; i < len(s.data); i++ {
		switch s.data[i] {
		case '\\':
			i++
		case '"':
			s.pos = i + 1
			return nil
		}
	}
	return errJSONShape
}

// str is the content of the string between start and pos. Plain strings
// are substrings of text; escapes and invalid UTF-8 go through
// encoding/json, which decodes them (replacing bad bytes by U+FFFD) as it
// always has.
func (s *jsonScanner) str(start int) (string, error) {
	inner := s.data[start+1 : s.pos-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return s.text[start+1 : s.pos-1], nil
	}
	var out string
	err := json.Unmarshal(s.data[start:s.pos], &out)
	return out, err
}

// object reads the object at pos into a rawObject: members in order, null
// members left out, strings unquoted and trimmed, other values kept as
// their JSON text. With top, "lines" is read as an array of such objects.
func (s *jsonScanner) object(top bool) (rawObject, error) {
	// Documents have a few dozen members: one allocation for them all.
	obj := rawObject{fields: make([]rawField, 0, 48)}
	if s.next() != '{' {
		return obj, errJSONShape
	}
	s.pos++
	if s.next() == '}' {
		s.pos++
		return obj, nil
	}
	for {
		if s.next() != '"' {
			return obj, errJSONShape
		}
		start, err := s.value()
		if err != nil {
			return obj, err
		}
		name, err := s.str(start)
		if err != nil {
			return obj, err
		}
		if s.next() != ':' {
			return obj, errJSONShape
		}
		s.pos++
		c := s.next()
		switch {
		case !obj.admit(name):
			_, err = s.value()
		case top && name == "lines" && c != 'n':
			if obj.hasLines {
				obj.errs = append(obj.errs, FieldError{"lines", CodeDuplicateField, "field is given more than once"})
				_, err = s.value()
			} else {
				err = s.lines(&obj)
			}
		case c == '"':
			if start, err = s.value(); err == nil {
				var text string
				text, err = s.str(start)
				obj.add(name, rawValue{text: strings.TrimSpace(text), json: '"'})
			}
		default:
			if start, err = s.value(); err == nil && c != 'n' { // null is absence
				obj.add(name, rawValue{text: s.text[start:s.pos], json: c})
			}
		}
		if err != nil {
			return obj, err
		}
		switch s.next() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return obj, nil
		default:
			return obj, errJSONShape
		}
	}
}

// lines reads the "lines" value at pos into o.lines: a value that is not
// an array, or an element that is not an object, is a field error.
func (s *jsonScanner) lines(o *rawObject) error {
	o.hasLines = true
	if s.next() != '[' {
		o.errs = append(o.errs, FieldError{"lines", CodeInvalidType, "must be an array of lines"})
		_, err := s.value()
		return err
	}
	s.pos++
	o.lines = []rawObject{}
	if s.next() == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		var line rawObject
		switch {
		case i == MaxLines:
			// One error for the 100th line and whatever follows; the
			// rest of the array is skipped, not read.
			o.errs = append(o.errs, FieldError{"lines", CodeTooManyLines, fmt.Sprintf("at most %d lines; reading stopped at the %dth", MaxLines, MaxLines+1)})
			fallthrough
		case i > MaxLines:
			if _, err := s.value(); err != nil {
				return err
			}
		case s.next() == '{':
			var err error
			if line, err = s.object(false); err != nil {
				return err
			}
			o.lines = append(o.lines, line)
		default:
			if _, err := s.value(); err != nil {
				return err
			}
			o.errs = append(o.errs, FieldError{fmt.Sprintf("lines[%d]", i), CodeInvalidType, "a line is a JSON object"})
			o.lines = append(o.lines, line)
		}
		switch s.next() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return errJSONShape
		}
	}
}
