-- CreateEnum
CREATE TYPE "task_status" AS ENUM ('TODO', 'IN_PROGRESS', 'DONE');

-- CreateTable
CREATE TABLE "task_facts" (
    "task_id" TEXT NOT NULL,
    "status" "task_status",
    "created_at" TIMESTAMPTZ(3),
    "created_by_id" TEXT,
    "assignee_id" TEXT,
    "completed_at" TIMESTAMPTZ(3),
    "completed_by_id" TEXT,
    "completions" INTEGER NOT NULL DEFAULT 0,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "task_facts_pkey" PRIMARY KEY ("task_id")
);

-- CreateTable
CREATE TABLE "daily_stats" (
    "day" DATE NOT NULL,
    "tasks_created" INTEGER NOT NULL DEFAULT 0,
    "tasks_completed" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "daily_stats_pkey" PRIMARY KEY ("day")
);

-- CreateTable
CREATE TABLE "user_daily_stats" (
    "user_id" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "tasks_created" INTEGER NOT NULL DEFAULT 0,
    "tasks_completed" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "user_daily_stats_pkey" PRIMARY KEY ("user_id","day")
);

-- CreateTable
CREATE TABLE "daily_active_users" (
    "day" DATE NOT NULL,
    "user_id" TEXT NOT NULL,

    CONSTRAINT "daily_active_users_pkey" PRIMARY KEY ("day","user_id")
);

-- CreateTable
CREATE TABLE "outbox_events" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "source" TEXT NOT NULL,
    "aggregate_id" TEXT NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "traceparent" TEXT,
    "payload" JSONB NOT NULL,
    "published_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "outbox_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbox_events" (
    "group" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "handled_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_events_pkey" PRIMARY KEY ("group","event_id")
);

-- CreateIndex
CREATE INDEX "task_facts_status_deleted_at_idx" ON "task_facts"("status", "deleted_at");

-- CreateIndex
CREATE INDEX "task_facts_assignee_id_status_idx" ON "task_facts"("assignee_id", "status");

-- CreateIndex
CREATE INDEX "task_facts_completed_at_idx" ON "task_facts"("completed_at");

-- CreateIndex
CREATE INDEX "task_facts_completed_by_id_completed_at_idx" ON "task_facts"("completed_by_id", "completed_at");

-- CreateIndex
CREATE INDEX "user_daily_stats_day_idx" ON "user_daily_stats"("day");

-- CreateIndex
CREATE INDEX "outbox_events_published_at_id_idx" ON "outbox_events"("published_at", "id");
