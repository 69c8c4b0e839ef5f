package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/ppnet/ppnet/internal/billing/bill"
	"github.com/ppnet/ppnet/internal/billing/customer"
)

// maxBody bounds a JSON request body.
const maxBody = 64 << 10

// decodeCustomer reads one customer as JSON (the customer.Customer field
// names), rejecting unknown fields, trailing data and invalid values.
func decodeCustomer(r io.Reader) (customer.Customer, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxBody+1))
	dec.DisallowUnknownFields()
	var c customer.Customer
	if err := dec.Decode(&c); err != nil {
		return customer.Customer{}, fmt.Errorf("web: customer JSON: %v; fix: send one object with fields id, name, email, phone, address{street,locality,city,pin}, account_number, sanctioned_load_w, tariff, meter_id", err)
	}
	if dec.More() {
		return customer.Customer{}, errors.New("web: customer JSON: more than one value; fix: send exactly one object")
	}
	if err := c.Validate(); err != nil {
		return customer.Customer{}, err
	}
	return c, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (u *ui) apiError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// apiPutCustomer creates or replaces a customer; the answer is the masked
// view, never the PII that was sent.
func (u *ui) apiPutCustomer(w http.ResponseWriter, r *http.Request) {
	c, err := decodeCustomer(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		u.apiError(w, http.StatusBadRequest, err)
		return
	}
	if _, err := u.svc.Schedule(c.Tariff); err != nil {
		u.apiError(w, http.StatusBadRequest, err)
		return
	}
	if err := u.svc.Customers().Put(c); err != nil {
		u.apiError(w, http.StatusConflict, err)
		return
	}
	u.log.Info("customer saved", "customer", c.ID, "name", customer.MaskName(c.Name))
	writeJSON(w, http.StatusOK, customer.Mask(&c))
}

func (u *ui) apiCustomers(w http.ResponseWriter, _ *http.Request) {
	cs, err := u.svc.Customers().List()
	if err != nil {
		u.apiError(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, cs)
}

func (u *ui) apiCustomer(w http.ResponseWriter, r *http.Request) {
	c, err := u.svc.Customers().Get(r.PathValue("id"))
	if err != nil {
		u.apiError(w, http.StatusNotFound, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (u *ui) apiBills(w http.ResponseWriter, r *http.Request) {
	bs, err := u.svc.Bills().List(r.FormValue("customer"))
	if err != nil {
		u.apiError(w, http.StatusInternalServerError, err)
		return
	}
	if bs == nil {
		bs = []bill.Bill{}
	}
	writeJSON(w, http.StatusOK, bs)
}

func (u *ui) apiBill(w http.ResponseWriter, r *http.Request) {
	b, err := u.svc.Bills().Get(billID(r))
	if err != nil {
		u.apiError(w, http.StatusNotFound, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

// apiIssue bills a month from released totals (a JSON array of
// bill.Totals) and answers the billing.Report.
func (u *ui) apiIssue(w http.ResponseWriter, r *http.Request) {
	ts, err := bill.DecodeTotals(r.Body)
	if err != nil {
		u.apiError(w, http.StatusBadRequest, err)
		return
	}
	rep, err := u.svc.IssuePeriod(r.PathValue("period"), ts)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, bill.ErrInput) {
			status = http.StatusBadRequest
		}
		u.apiError(w, status, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
