//! The PISP's side of payment initiation: its own token, the payment request, the PSU's approval
//! on the bank's pages (driven over HTTP, for tests and developers), the confirmation and the
//! status, with the `stet::pis` types.

use crate::{ClientError, FlowEnd, PsuAnswers, TppClient};
use stet::ApiVersion;
use stet::pis::{ConfirmationResource, PaymentRequestResource};

impl TppClient {
    /// The PISP's own token (`grant_type=client_credentials`, scope `pisp`).
    pub async fn pisp_token(&self, client_id: &str) -> Result<reqwest::Response, ClientError> {
        self.token_request(&[("client_id", client_id), ("grant_type", "client_credentials"), ("scope", "pisp")]).await
    }

    /// `POST /payment-requests` on `version`, signed, with the PISP's token.
    pub async fn post_payment_request(
        &self,
        version: ApiVersion,
        token: &str,
        request: &PaymentRequestResource,
    ) -> Result<reqwest::Response, ClientError> {
        let path = format!("{}/payment-requests", version.base_path());
        self.signed(reqwest::Method::POST, &path).bearer(token).json(request).send().await
    }

    /// `POST .../confirmation` (or `o-confirmation`) of request `id`.
    pub async fn confirm_payment_request(
        &self,
        version: ApiVersion,
        token: &str,
        id: &str,
        endpoint: &str,
        confirmation: &ConfirmationResource,
    ) -> Result<reqwest::Response, ClientError> {
        let path = format!("{}/payment-requests/{id}/{endpoint}", version.base_path());
        self.signed(reqwest::Method::POST, &path).bearer(token).json(confirmation).send().await
    }

    /// `GET /payment-requests/{id}`.
    pub async fn payment_request(
        &self,
        version: ApiVersion,
        token: &str,
        id: &str,
    ) -> Result<reqwest::Response, ClientError> {
        let path = format!("{}/payment-requests/{id}", version.base_path());
        self.signed(reqwest::Method::GET, &path).bearer(token).send().await
    }

    /// Goes through the approval pages of `consent_approval` (the creation answer's link) as `psu`.
    pub async fn drive_approval(&self, consent_approval: &str, psu: &PsuAnswers) -> Result<FlowEnd, ClientError> {
        self.drive_pages(consent_approval, psu).await
    }
}
