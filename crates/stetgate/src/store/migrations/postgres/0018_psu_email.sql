-- Where a bank whose messaging gateway sends one-time codes by e-mail sends them
-- ([otp_gateway] channel = "email"): the PSU's address, from the holders file or the adapter.
ALTER TABLE psus ADD COLUMN email TEXT;
