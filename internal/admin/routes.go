package admin

import (
	"net/http"
	"strconv"

	"github.com/warden-api/warden/internal/store"
)

// Audit list limits of GET /admin/audit.
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

// routes lists every endpoint with the least role that may call it. The
// OpenAPI document in docs/admin-api.yaml describes the same list; a test
// checks that they match.
func (h *handler) routes() []route {
	viewer, operator, admin := store.RoleViewer, store.RoleOperator, store.RoleAdmin
	return []route{
		{"GET", "/admin/consumers", viewer, h.listConsumers},
		{"POST", "/admin/consumers", operator, h.createConsumer},
		{"GET", "/admin/consumers/{id}", viewer, h.getConsumer},
		{"PATCH", "/admin/consumers/{id}", operator, h.updateConsumer},
		{"DELETE", "/admin/consumers/{id}", operator, h.deleteConsumer},
		{"POST", "/admin/consumers/{id}/suspend", operator, h.setStatus(store.StatusSuspended)},
		{"POST", "/admin/consumers/{id}/activate", operator, h.setStatus(store.StatusActive)},
		{"GET", "/admin/consumers/{id}/usage", viewer, h.consumerUsage},
		{"GET", "/admin/consumers/{id}/keys", viewer, h.listConsumerKeys},
		{"POST", "/admin/consumers/{id}/keys", operator, h.createKey},
		{"GET", "/admin/keys", viewer, h.listKeys},
		{"GET", "/admin/keys/{id}", viewer, h.getKey},
		{"POST", "/admin/keys/{id}/rotate", operator, h.rotateKey},
		{"POST", "/admin/keys/{id}/revoke", operator, h.revokeKey},
		{"GET", "/admin/tokens", admin, h.listTokens},
		{"POST", "/admin/tokens", admin, h.createToken},
		{"POST", "/admin/tokens/{id}/revoke", admin, h.revokeToken},
		{"GET", "/admin/audit", viewer, h.listAudit},
	}
}

func (h *handler) listConsumers(w http.ResponseWriter, r *http.Request, _ principal) error {
	list, err := h.svc.ListConsumers(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, List[Consumer]{Items: list})
}

func (h *handler) createConsumer(w http.ResponseWriter, r *http.Request, p principal) error {
	var req ConsumerCreate
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	c, err := h.svc.CreateConsumer(r.Context(), p.actor, req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/admin/consumers/"+c.ID)
	return writeJSON(w, http.StatusCreated, c)
}

func (h *handler) getConsumer(w http.ResponseWriter, r *http.Request, _ principal) error {
	c, err := h.svc.GetConsumer(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (h *handler) updateConsumer(w http.ResponseWriter, r *http.Request, p principal) error {
	var patch ConsumerPatch
	if err := decodeJSON(w, r, &patch, false); err != nil {
		return err
	}
	c, err := h.svc.UpdateConsumer(r.Context(), p.actor, r.PathValue("id"), patch)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (h *handler) deleteConsumer(w http.ResponseWriter, r *http.Request, p principal) error {
	if err := h.svc.DeleteConsumer(r.Context(), p.actor, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) setStatus(status string) func(http.ResponseWriter, *http.Request, principal) error {
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		if err := decodeJSON(w, r, &struct{}{}, true); err != nil {
			return err
		}
		c, err := h.svc.SetConsumerStatus(r.Context(), p.actor, r.PathValue("id"), status)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, c)
	}
}

func (h *handler) consumerUsage(w http.ResponseWriter, r *http.Request, _ principal) error {
	u, err := h.svc.ConsumerUsage(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (h *handler) listConsumerKeys(w http.ResponseWriter, r *http.Request, _ principal) error {
	keys, err := h.svc.ListKeys(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, List[APIKey]{Items: keys})
}

func (h *handler) listKeys(w http.ResponseWriter, r *http.Request, _ principal) error {
	keys, err := h.svc.ListKeys(r.Context(), r.URL.Query().Get("consumer_id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, List[APIKey]{Items: keys})
}

func (h *handler) createKey(w http.ResponseWriter, r *http.Request, p principal) error {
	var req KeyCreate
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	k, err := h.svc.CreateKey(r.Context(), p.actor, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/admin/keys/"+k.ID)
	return writeJSON(w, http.StatusCreated, k)
}

func (h *handler) getKey(w http.ResponseWriter, r *http.Request, _ principal) error {
	k, err := h.svc.GetKey(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k)
}

func (h *handler) rotateKey(w http.ResponseWriter, r *http.Request, p principal) error {
	var req KeyRotate
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	k, err := h.svc.RotateKey(r.Context(), p.actor, r.PathValue("id"), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/admin/keys/"+k.ID)
	return writeJSON(w, http.StatusCreated, k)
}

func (h *handler) revokeKey(w http.ResponseWriter, r *http.Request, p principal) error {
	if err := decodeJSON(w, r, &struct{}{}, true); err != nil {
		return err
	}
	k, err := h.svc.RevokeKey(r.Context(), p.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, k)
}

func (h *handler) listTokens(w http.ResponseWriter, r *http.Request, _ principal) error {
	list, err := h.svc.ListTokens(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, List[AdminToken]{Items: list})
}

func (h *handler) createToken(w http.ResponseWriter, r *http.Request, p principal) error {
	var req TokenCreate
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	t, err := h.svc.CreateToken(r.Context(), p.actor, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, t)
}

func (h *handler) revokeToken(w http.ResponseWriter, r *http.Request, p principal) error {
	if err := decodeJSON(w, r, &struct{}{}, true); err != nil {
		return err
	}
	t, err := h.svc.RevokeToken(r.Context(), p.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (h *handler) listAudit(w http.ResponseWriter, r *http.Request, _ principal) error {
	limit := defaultAuditLimit
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxAuditLimit {
			return invalidField("limit", "must be a whole number from 1 to %d", maxAuditLimit)
		}
		limit = n
	}
	entries, err := h.svc.ListAudit(r.Context(), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, List[AuditEntry]{Items: entries})
}
