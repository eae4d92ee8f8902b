SELECT
  "t6"."period_start",
  (
    CAST(SUM(IFF("t6"."score" >= 9, 1, 0)) - SUM(IFF("t6"."score" <= 6, 1, 0)) AS DOUBLE) * 100.0
  ) / CAST(COUNT(*) AS DOUBLE) AS "value"
FROM (
  SELECT
    "t5"."response_id",
    "t5"."account_id",
    "t5"."score",
    "t5"."responded_at",
    "t5"."comment",
    "t5"."source",
    "t5"."segment",
    "t5"."region",
    CAST(DATE_TRUNC('MONTH', "t5"."responded_at") AS DATE) AS "period_start"
  FROM (
    SELECT
      "t2"."response_id",
      "t2"."account_id",
      "t2"."score",
      "t2"."responded_at",
      "t2"."comment",
      "t2"."source",
      "t4"."segment",
      "t4"."region"
    FROM "nps" AS "t2"
    LEFT OUTER JOIN (
      SELECT
        "t1"."account_id" AS "account_key",
        "t1"."segment",
        "t1"."region"
      FROM "accounts" AS "t1"
    ) AS "t4"
      ON "t2"."account_id" = "t4"."account_key"
  ) AS "t5"
  WHERE
    "t5"."responded_at" IS NOT NULL
) AS "t6"
GROUP BY
  1;
