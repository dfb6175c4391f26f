package refresh

import "testing"

func TestHistoryPeekAndDrop(t *testing.T) {
	h := &History{}
	if h.Peek(false) != nil {
		t.Fatal("peek of an empty history")
	}
	if _, ok := h.Drop(false); ok {
		t.Fatal("drop from an empty history")
	}
	h.push(Step{{Key: "A-1", Field: "summary", Old: "a", New: "b"}})
	h.push(Step{{Key: "A-2", Field: "summary", Old: "c", New: "d"}})
	if p := h.Peek(false); len(p) != 1 || p[0].Key != "A-2" {
		t.Fatalf("peek %v, want the newest step", p)
	}
	s, ok := h.Drop(false)
	if !ok || s[0].Key != "A-2" {
		t.Fatalf("drop %v %v", s, ok)
	}
	if u, r := h.Len(); u != 1 || r != 0 {
		t.Fatalf("after drop: %d undo, %d redo; want the older step alone", u, r)
	}
	if p := h.Peek(false); p[0].Key != "A-1" {
		t.Fatalf("peek after drop %v", p)
	}
}
