package world

import "time"

// Mail is one e-mail notification the platform sent, kept in the
// workspace's outbox. In manual provisioning mode (seed 003) Vendor Portal
// tells the vendor about every subscription operation by e-mail instead
// of calling its API; the outbox is where a test reads those e-mails.
type Mail struct {
	// ID orders the outbox: ids count up from 1 in each world, so the
	// newest mail has the largest id.
	ID      int64  `json:"id"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	// Operation names what the mail is about: a subscription operation
	// kind (create, renew, change_resources, switch_plan, stop, activate,
	// delete), a user operation (user_create, user_update, …) or a notice
	// of the workspace clock.
	Operation      string `json:"operation"`
	SubscriptionID int64  `json:"subscription_id,omitempty"`
	UserID         int64  `json:"user_id,omitempty"`
	// CreatedAt is the workspace clock when the mail was sent.
	CreatedAt time.Time `json:"created_at"`
}
