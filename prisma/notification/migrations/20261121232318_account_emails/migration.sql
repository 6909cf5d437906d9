-- CreateEnum
CREATE TYPE "account_email_kind" AS ENUM ('PASSWORD_RESET');

-- CreateTable
CREATE TABLE "account_emails" (
    "id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "kind" "account_email_kind" NOT NULL,
    "recipient_id" TEXT NOT NULL,
    "status" "delivery_status" NOT NULL,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "account_emails_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "account_emails_event_id_key" ON "account_emails"("event_id");

-- CreateIndex
CREATE INDEX "account_emails_recipient_id_id_idx" ON "account_emails"("recipient_id", "id");
