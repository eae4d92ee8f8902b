SELECT
  "t6"."period_start",
  COUNT(*) AS "value"
FROM (
  SELECT
    "t5"."activity_id",
    "t5"."person_id",
    "t5"."account_id",
    "t5"."opportunity_id",
    "t5"."kind",
    "t5"."occurred_at",
    "t5"."source",
    "t5"."team",
    "t5"."role",
    "t5"."rep_name",
    CAST(DATE_TRUNC('MONTH', "t5"."occurred_at") AS DATE) AS "period_start"
  FROM (
    SELECT
      "t2"."activity_id",
      "t2"."person_id",
      "t2"."account_id",
      "t2"."opportunity_id",
      "t2"."kind",
      "t2"."occurred_at",
      "t2"."source",
      "t4"."team",
      "t4"."role",
      COALESCE("t4"."rep_name", "t2"."person_id") AS "rep_name"
    FROM "activities" AS "t2"
    LEFT OUTER JOIN (
      SELECT
        "t1"."person_id" AS "person_key",
        "t1"."team",
        "t1"."role",
        "t1"."name" AS "rep_name"
      FROM "people" AS "t1"
    ) AS "t4"
      ON "t2"."person_id" = "t4"."person_key"
  ) AS "t5"
  WHERE
    "t5"."occurred_at" IS NOT NULL
) AS "t6"
GROUP BY
  1;
