package jql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pos is a 1-based line and character position in the query text, as Jira reports it.
type Pos struct {
	Line, Column int
}

type tokenKind int

const (
	tokEOF    tokenKind = iota
	tokWord             // unquoted word: field, keyword, value, function name, number, date
	tokString           // quoted string, escapes resolved
	tokOp               // = != < <= > >= ~ !~
	tokLParen
	tokRParen
	tokComma
)

type token struct {
	kind tokenKind
	text string // resolved text (for strings without quotes and with escapes applied)
	raw  string // as written, for messages
	pos  Pos
}

// Error is a JQL syntax or validation error at a position in the query. Error() renders it
// in Jira's wording: "Error in the JQL Query: Expecting operator but got 'foo'. (line 1,
// character 9)". Parse and Compile return only *Error, so callers can answer Jira's 400.
type Error struct {
	Line, Column int
	Msg          string
	// Unknown: the query names a field or function Foundation does not know. Jira may
	// (a custom field by its name, a function an app adds), so it may still answer.
	Unknown bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (line %d, character %d)", e.Msg, e.Line, e.Column)
}

func syntaxErr(p Pos, format string, args ...any) *Error {
	return &Error{Line: p.Line, Column: p.Column, Msg: "Error in the JQL Query: " + fmt.Sprintf(format, args...)}
}

func semanticErr(p Pos, format string, args ...any) *Error {
	return &Error{Line: p.Line, Column: p.Column, Msg: fmt.Sprintf(format, args...)}
}

// unknownErr is semanticErr for a name Foundation does not know (see Error.Unknown).
func unknownErr(p Pos, format string, args ...any) *Error {
	e := semanticErr(p, format, args...)
	e.Unknown = true
	return e
}

// lexer splits JQL into tokens. Positions count runes, lines from 1.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func (l *lexer) pos() Pos { return Pos{Line: l.line, Column: l.col} }

// advance moves past one rune and keeps the position current.
func (l *lexer) advance() rune {
	r, n := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += n
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

func (l *lexer) peek() rune {
	if l.off >= len(l.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return r
}

// isWordRune reports whether r may appear in an unquoted word. Jira reserves more
// characters; we stop only at what separates tokens, so "ALPHA-12", "-2d", "cf[10016]" and
// "customfield_10016" are single words.
func isWordRune(r rune) bool {
	switch r {
	case '(', ')', ',', '=', '!', '<', '>', '~', '"', '\'':
		return false
	}
	return !unicode.IsSpace(r) && r >= 0
}

func (l *lexer) all() ([]token, error) {
	var toks []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tokEOF {
			return toks, nil
		}
	}
}

func (l *lexer) next() (token, error) {
	for l.off < len(l.src) && unicode.IsSpace(l.peek()) {
		l.advance()
	}
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: p}, nil
	}
	start := l.off
	r := l.peek()
	switch r {
	case '(':
		l.advance()
		return token{kind: tokLParen, text: "(", raw: "(", pos: p}, nil
	case ')':
		l.advance()
		return token{kind: tokRParen, text: ")", raw: ")", pos: p}, nil
	case ',':
		l.advance()
		return token{kind: tokComma, text: ",", raw: ",", pos: p}, nil
	case '=', '~':
		l.advance()
		return token{kind: tokOp, text: string(r), raw: string(r), pos: p}, nil
	case '<', '>':
		l.advance()
		if l.peek() == '=' {
			l.advance()
		}
		s := l.src[start:l.off]
		return token{kind: tokOp, text: s, raw: s, pos: p}, nil
	case '!':
		l.advance()
		if n := l.peek(); n == '=' || n == '~' {
			l.advance()
			s := l.src[start:l.off]
			return token{kind: tokOp, text: s, raw: s, pos: p}, nil
		}
		return token{}, syntaxErr(p, "The character '!' is a reserved JQL character. You must enclose it in a string or use the escape '\\u0021' instead.")
	case '"', '\'':
		return l.quoted(r, p)
	}
	for l.off < len(l.src) && isWordRune(l.peek()) {
		if l.peek() == '\\' {
			// An escaped character inside an unquoted word is taken literally, e.g. a\ b.
			l.advance()
			if l.off >= len(l.src) {
				return token{}, syntaxErr(p, "The escape sequence '\\' at the end of the query is incomplete.")
			}
		}
		l.advance()
	}
	raw := l.src[start:l.off]
	text := raw
	if strings.Contains(raw, "\\") {
		var err error
		text, err = unescape(raw, p)
		if err != nil {
			return token{}, err
		}
	}
	return token{kind: tokWord, text: text, raw: raw, pos: p}, nil
}

// quoted reads a string in double or single quotes with Jira's escapes.
func (l *lexer) quoted(q rune, p Pos) (token, error) {
	start := l.off
	l.advance()
	for {
		if l.off >= len(l.src) {
			return token{}, syntaxErr(p, "The quoted string '%s' has not been completed.", l.src[start:])
		}
		r := l.advance()
		if r == '\\' {
			if l.off >= len(l.src) {
				return token{}, syntaxErr(p, "The quoted string '%s' has not been completed.", l.src[start:])
			}
			l.advance()
			continue
		}
		if r == q {
			break
		}
	}
	raw := l.src[start:l.off]
	text, err := unescape(raw[1:len(raw)-1], p)
	if err != nil {
		return token{}, err
	}
	return token{kind: tokString, text: text, raw: raw, pos: p}, nil
}

// unescape resolves \" \' \\ \n \r \t \uXXXX and "\ " as Jira does.
func unescape(s string, p Pos) (string, error) {
	if !strings.Contains(s, "\\") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", syntaxErr(p, "The escape sequence '\\' is incomplete.")
		}
		switch s[i] {
		case '"', '\'', '\\', ' ':
			b.WriteByte(s[i])
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			if i+5 > len(s) {
				return "", syntaxErr(p, "The unicode escape sequence '\\%s' is invalid.", s[i:])
			}
			v, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
			if err != nil {
				return "", syntaxErr(p, "The unicode escape sequence '\\%s' is invalid.", s[i:i+5])
			}
			b.WriteRune(rune(v))
			i += 4
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			return "", syntaxErr(p, "The escape sequence '\\%c' is illegal.", r)
		}
	}
	return b.String(), nil
}
