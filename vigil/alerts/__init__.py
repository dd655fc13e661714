"""Alerts: when to alert (rules), what to say (message), how to send (senders), and the
delivery log that makes each message go out once (store); `service` runs them on the events
topic, `dispatch` sends one delivery."""
