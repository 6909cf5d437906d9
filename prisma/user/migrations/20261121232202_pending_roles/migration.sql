-- CreateTable
CREATE TABLE "pending_roles" (
    "user_id" TEXT NOT NULL,
    "roles" "Role"[],
    "event_id" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "pending_roles_pkey" PRIMARY KEY ("user_id")
);
