//go:build !linux

package http1

// alive reports whether an idle connection looks usable. Without a
// non-blocking peek on this platform only buffered data is checked; a
// connection the server closed fails on use instead.
func (cn *conn) alive() bool {
	return cn.br.Buffered() == 0
}
