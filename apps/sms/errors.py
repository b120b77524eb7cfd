from thirdlane.api.errors import register_error_code

# Sending (apps.sms.services.message_send).
register_error_code("did_not_sms_capable", 400, "The DID is not enabled for SMS.")
register_error_code("text_too_long", 400, "The text takes more segments than the tenant allows.")
register_error_code("recipient_opted_out", 409, "The recipient opted out of messages from this number (STOP).")
register_error_code("no_sms_provider", 409, "No enabled SMS provider serves this tenant.")
# Inbound messages and receipts from an adapter (/api/sms/inbound/<provider>).
register_error_code("invalid_provider_key", 401, "The SMS provider key is missing or wrong.")
register_error_code("invalid_signature", 401, "The webhook signature is missing, wrong or stale.")
register_error_code("sms_number_unknown", 404, "No SMS-capable DID served by this provider has this number.")
register_error_code("sms_message_not_found", 404, "No outbound message of this provider has this id.")
