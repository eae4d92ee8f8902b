WITH "t24" AS (
  SELECT
    "t12"."account_id",
    "t12"."currency",
    "t4"."month",
    "t4"."month_end",
    "t13"."s_account",
    "t13"."s_currency",
    "t13"."s_start",
    "t13"."s_end",
    "t13"."s_mrr",
    "t13"."s_plan",
    "t23"."r_currency",
    "t23"."r_month",
    "t23"."r_rate",
    "t23"."r_missing"
  FROM (
    SELECT DISTINCT
      "t1"."account_id",
      COALESCE(NULLIF(UPPER(TRIM("t1"."currency", ' \t\n\r\f')), ''), 'USD') AS "currency"
    FROM "subscriptions" AS "t1"
  ) AS "t12"
  CROSS JOIN "ibis_pandas_memtable" AS "t4"
  LEFT OUTER JOIN (
    SELECT
      "t1"."account_id" AS "s_account",
      COALESCE(NULLIF(UPPER(TRIM("t1"."currency", ' \t\n\r\f')), ''), 'USD') AS "s_currency",
      "t1"."started_at" AS "s_start",
      COALESCE("t1"."ended_at", DATE_FROM_PARTS(9999, 12, 31)) AS "s_end",
      CAST("t1"."mrr" AS DECIMAL(38, 2)) AS "s_mrr",
      "t1"."plan" AS "s_plan"
    FROM "subscriptions" AS "t1"
  ) AS "t13"
    ON "t12"."account_id" = "t13"."s_account"
    AND "t12"."currency" = "t13"."s_currency"
    AND "t13"."s_start" <= "t4"."month_end"
    AND "t13"."s_end" > "t4"."month_end"
  LEFT OUTER JOIN (
    SELECT
      "t21"."currency" AS "r_currency",
      "t21"."month" AS "r_month",
      "t21"."rate" AS "r_rate",
      CASE WHEN "t21"."rate" IS NULL THEN "t21"."currency" ELSE CAST(NULL AS VARCHAR) END AS "r_missing"
    FROM (
      SELECT
        "t20"."currency",
        "t20"."month",
        "t20"."_unit",
        CASE
          WHEN "t20"."currency" = 'USD'
          THEN 1.0
          ELSE COALESCE("t20"."_d_rate", "t20"."_s_rate")
        END AS "rate"
      FROM (
        SELECT
          "t19"."currency",
          "t19"."month",
          "t19"."_unit",
          "t16"."_d_currency",
          "t16"."_d_rate",
          "t16"."_d_from",
          "t16"."_d_until",
          "t16"."_d_latest",
          "t9"."_s_currency",
          "t9"."_s_rate"
        FROM (
          SELECT
            COALESCE(NULLIF(UPPER(TRIM("t17"."currency", ' \t\n\r\f')), ''), 'USD') AS "currency",
            "t17"."month",
            1.0 AS "_unit"
          FROM (
            SELECT DISTINCT
              *
            FROM (
              SELECT
                "t12"."currency",
                "t4"."month"
              FROM (
                SELECT DISTINCT
                  "t1"."account_id",
                  COALESCE(NULLIF(UPPER(TRIM("t1"."currency", ' \t\n\r\f')), ''), 'USD') AS "currency"
                FROM "subscriptions" AS "t1"
              ) AS "t12"
              CROSS JOIN "ibis_pandas_memtable" AS "t4"
            ) AS "t14"
          ) AS "t17"
        ) AS "t19"
        LEFT OUTER JOIN (
          SELECT
            "t8"."currency" AS "_d_currency",
            "t8"."rate" AS "_d_rate",
            "t8"."valid_from" AS "_d_from",
            CASE
              WHEN "t8"."valid_to" IS NULL
              THEN LEAD("t8"."valid_from") OVER (PARTITION BY "t8"."currency" ORDER BY "t8"."valid_from" ASC)
              WHEN LEAD("t8"."valid_from") OVER (PARTITION BY "t8"."currency" ORDER BY "t8"."valid_from" ASC) IS NULL
              THEN "t8"."valid_to"
              ELSE LEAST(
                "t8"."valid_to",
                LEAD("t8"."valid_from") OVER (PARTITION BY "t8"."currency" ORDER BY "t8"."valid_from" ASC)
              )
            END AS "_d_until",
            LEAD("t8"."valid_from") OVER (PARTITION BY "t8"."currency" ORDER BY "t8"."valid_from" ASC) IS NULL AS "_d_latest"
          FROM (
            SELECT
              *
            FROM "exchange_rates" AS "t3"
            WHERE
              "t3"."valid_from" IS NOT NULL
          ) AS "t8"
        ) AS "t16"
          ON "t19"."currency" = "t16"."_d_currency"
          AND (
            (
              (
                "t19"."month" IS NOT NULL
              )
              AND (
                "t16"."_d_from" <= "t19"."month"
              )
              AND (
                (
                  "t16"."_d_until" IS NULL
                ) OR (
                  "t19"."month" < "t16"."_d_until"
                )
              )
            )
            OR (
              (
                "t19"."month" IS NULL
              ) AND "t16"."_d_latest"
            )
          )
        LEFT OUTER JOIN (
          SELECT
            "t3"."currency" AS "_s_currency",
            "t3"."rate" AS "_s_rate"
          FROM "exchange_rates" AS "t3"
          WHERE
            "t3"."valid_from" IS NULL
        ) AS "t9"
          ON "t19"."currency" = "t9"."_s_currency"
      ) AS "t20"
    ) AS "t21"
  ) AS "t23"
    ON "t12"."currency" = "t23"."r_currency" AND "t4"."month" = "t23"."r_month"
)
SELECT
  "t51"."period_start",
  "t51"."value"
FROM (
  SELECT
    "t50"."period_start",
    "t50"."month",
    "t50"."value",
    MAX("t50"."month") OVER (
      PARTITION BY "t50"."period_start"
      ORDER BY NULL ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "_pick"
  FROM (
    SELECT
      "t49"."period_start",
      "t49"."month",
      SUM("t49"."paying") AS "value"
    FROM (
      SELECT
        "t48"."account_id",
        "t48"."month",
        "t48"."mrr",
        "t48"."prev_mrr",
        "t48"."mrr_12_ago",
        "t48"."paying",
        "t48"."was_paying",
        "t48"."rate_missing",
        "t48"."fx_change",
        "t48"."plan",
        "t48"."paid_before",
        "t48"."movement",
        "t48"."change",
        "t48"."month_ts",
        "t48"."segment",
        "t48"."region",
        "t48"."industry",
        CAST(DATE_TRUNC('MONTH', "t48"."month_ts") AS DATE) AS "period_start"
      FROM (
        SELECT
          "t47".*
          EXCLUDE ("account_key")
        FROM (
          SELECT
            "t46"."account_id",
            "t46"."month",
            "t46"."mrr",
            "t46"."prev_mrr",
            "t46"."mrr_12_ago",
            "t46"."paying",
            "t46"."was_paying",
            "t46"."rate_missing",
            "t46"."fx_change",
            "t46"."plan",
            "t46"."paid_before",
            "t46"."movement",
            "t46"."change",
            "t46"."month_ts",
            "t6"."account_key",
            "t6"."segment",
            "t6"."region",
            "t6"."industry"
          FROM (
            SELECT
              "t44"."account_id",
              "t44"."month",
              "t44"."mrr",
              "t44"."prev_mrr",
              "t44"."mrr_12_ago",
              "t44"."paying",
              "t44"."was_paying",
              "t44"."rate_missing",
              "t44"."fx_change",
              "t44"."plan",
              "t44"."paid_before",
              CASE
                WHEN (
                  "t44"."was_paying" = 0
                )
                AND (
                  "t44"."paying" = 1
                )
                AND (
                  "t44"."paid_before" = 0
                )
                THEN 'new'
                WHEN (
                  "t44"."was_paying" = 0
                ) AND (
                  "t44"."paying" = 1
                )
                THEN 'reactivation'
                WHEN (
                  "t44"."was_paying" = 1
                ) AND (
                  "t44"."paying" = 0
                )
                THEN 'churned'
                WHEN (
                  "t44"."was_paying" = 1
                ) AND (
                  "t44"."mrr" > "t44"."prev_mrr"
                )
                THEN 'expansion'
                WHEN (
                  "t44"."was_paying" = 1
                ) AND (
                  "t44"."mrr" < "t44"."prev_mrr"
                )
                THEN 'contraction'
                ELSE 'none'
              END AS "movement",
              "t44"."mrr" - "t44"."prev_mrr" AS "change",
              CAST("t44"."month" AS TIMESTAMP) AS "month_ts"
            FROM (
              SELECT
                "t43"."account_id",
                "t43"."month",
                "t43"."mrr",
                "t43"."prev_mrr",
                "t43"."mrr_12_ago",
                "t43"."paying",
                "t43"."was_paying",
                "t43"."rate_missing",
                "t43"."fx_change",
                "t43"."plan",
                MAX("t43"."was_paying") OVER (
                  PARTITION BY "t43"."account_id"
                  ORDER BY "t43"."month" ASC
                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                ) AS "paid_before"
              FROM (
                SELECT
                  "t42".*
                  EXCLUDE ("p_account", "p_month", "paid_plan")
                FROM (
                  SELECT
                    "t41"."account_id",
                    "t41"."month",
                    "t41"."mrr",
                    "t41"."prev_mrr",
                    "t41"."mrr_12_ago",
                    "t41"."paying",
                    "t41"."was_paying",
                    "t41"."rate_missing",
                    "t41"."fx_change",
                    "t41"."p_account",
                    "t41"."p_month",
                    "t41"."paid_plan",
                    COALESCE(
                      "t41"."paid_plan",
                      LAG("t41"."paid_plan") OVER (PARTITION BY "t41"."account_id" ORDER BY "t41"."month" ASC)
                    ) AS "plan"
                  FROM (
                    SELECT
                      "t40"."account_id",
                      "t40"."month",
                      "t40"."mrr",
                      "t40"."prev_mrr",
                      "t40"."mrr_12_ago",
                      "t40"."paying",
                      "t40"."was_paying",
                      "t40"."rate_missing",
                      "t40"."fx_change",
                      "t36"."p_account",
                      "t36"."p_month",
                      "t36"."paid_plan"
                    FROM (
                      SELECT
                        "t38".*
                        EXCLUDE ("prev_own")
                      FROM (
                        SELECT
                          "t37"."account_id",
                          "t37"."month",
                          "t37"."mrr",
                          "t37"."prev_mrr",
                          "t37"."prev_own",
                          "t37"."mrr_12_ago",
                          "t37"."paying",
                          "t37"."was_paying",
                          "t37"."rate_missing",
                          "t37"."prev_mrr" - "t37"."prev_own" AS "fx_change"
                        FROM (
                          SELECT
                            "t34"."account_id",
                            "t34"."month",
                            SUM("t34"."mrr_c") AS "mrr",
                            SUM("t34"."prev_c") AS "prev_mrr",
                            SUM("t34"."prev_own") AS "prev_own",
                            SUM("t34"."ago_c") AS "mrr_12_ago",
                            MAX(IFF("t34"."local" > 0, 1, 0)) AS "paying",
                            MAX(IFF("t34"."prev_local" > 0, 1, 0)) AS "was_paying",
                            MAX("t34"."short") AS "rate_missing"
                          FROM (
                            SELECT
                              "t32"."account_id",
                              "t32"."currency",
                              "t32"."month",
                              "t32"."local",
                              "t32"."rate",
                              "t32"."missing",
                              "t32"."prev_local",
                              "t32"."ago_local",
                              "t32"."mrr_c",
                              "t32"."prev_c",
                              "t32"."ago_c",
                              "t32"."short",
                              COALESCE(
                                LAG("t32"."mrr_c") OVER (PARTITION BY "t32"."account_id", "t32"."currency" ORDER BY "t32"."month" ASC),
                                0
                              ) AS "prev_own"
                            FROM (
                              SELECT
                                "t29"."account_id",
                                "t29"."currency",
                                "t29"."month",
                                "t29"."local",
                                "t29"."rate",
                                "t29"."missing",
                                "t29"."prev_local",
                                "t29"."ago_local",
                                CASE
                                  WHEN "t29"."local" = 0
                                  THEN CAST(0 AS DECIMAL(38, 2))
                                  WHEN "t29"."rate" = 1
                                  THEN "t29"."local"
                                  ELSE CAST(CAST("t29"."local" AS DOUBLE) / "t29"."rate" AS DECIMAL(38, 2))
                                END AS "mrr_c",
                                CASE
                                  WHEN "t29"."prev_local" = 0
                                  THEN CAST(0 AS DECIMAL(38, 2))
                                  WHEN "t29"."rate" = 1
                                  THEN "t29"."prev_local"
                                  ELSE CAST(CAST("t29"."prev_local" AS DOUBLE) / "t29"."rate" AS DECIMAL(38, 2))
                                END AS "prev_c",
                                CASE
                                  WHEN "t29"."ago_local" = 0
                                  THEN CAST(0 AS DECIMAL(38, 2))
                                  WHEN "t29"."rate" = 1
                                  THEN "t29"."ago_local"
                                  ELSE CAST(CAST("t29"."ago_local" AS DOUBLE) / "t29"."rate" AS DECIMAL(38, 2))
                                END AS "ago_c",
                                CASE
                                  WHEN (
                                    "t29"."rate" IS NULL
                                  )
                                  AND (
                                    (
                                      "t29"."local" <> 0
                                    )
                                    OR (
                                      "t29"."prev_local" <> 0
                                    )
                                    OR (
                                      COALESCE("t29"."ago_local", 0) <> 0
                                    )
                                  )
                                  THEN "t29"."missing"
                                  ELSE CAST(NULL AS VARCHAR)
                                END AS "short"
                              FROM (
                                SELECT
                                  "t27"."account_id",
                                  "t27"."currency",
                                  "t27"."month",
                                  "t27"."local",
                                  "t27"."rate",
                                  "t27"."missing",
                                  COALESCE(
                                    LAG("t27"."local") OVER (PARTITION BY "t27"."account_id", "t27"."currency" ORDER BY "t27"."month" ASC),
                                    0
                                  ) AS "prev_local",
                                  LAG("t27"."local", 12) OVER (PARTITION BY "t27"."account_id", "t27"."currency" ORDER BY "t27"."month" ASC) AS "ago_local"
                                FROM (
                                  SELECT
                                    "t25"."account_id",
                                    "t25"."currency",
                                    "t25"."month",
                                    COALESCE(SUM("t25"."s_mrr"), 0) AS "local",
                                    MAX("t25"."r_rate") AS "rate",
                                    MAX("t25"."r_missing") AS "missing"
                                  FROM "t24" AS "t25"
                                  GROUP BY
                                    1,
                                    2,
                                    3
                                ) AS "t27"
                              ) AS "t29"
                            ) AS "t32"
                          ) AS "t34"
                          GROUP BY
                            1,
                            2
                        ) AS "t37"
                      ) AS "t38"
                    ) AS "t40"
                    LEFT OUTER JOIN (
                      SELECT
                        "t33"."account_id" AS "p_account",
                        "t33"."month" AS "p_month",
                        "t33"."s_plan" AS "paid_plan"
                      FROM (
                        SELECT
                          "t31"."account_id",
                          "t31"."month",
                          "t31"."s_plan",
                          "t31"."plan_mrr",
                          ROW_NUMBER() OVER (
                            PARTITION BY "t31"."account_id", "t31"."month"
                            ORDER BY "t31"."plan_mrr" DESC NULLS LAST, COALESCE("t31"."s_plan", '') DESC NULLS LAST
                          ) - 1 AS "_rank"
                        FROM (
                          SELECT
                            "t30"."account_id",
                            "t30"."month",
                            "t30"."s_plan",
                            SUM("t30"."value") AS "plan_mrr"
                          FROM (
                            SELECT
                              "t28"."account_id",
                              "t28"."month",
                              "t28"."s_plan",
                              "t28"."currency",
                              "t28"."amount",
                              "t28"."rate",
                              CASE
                                WHEN (
                                  "t28"."rate" IS NULL
                                ) OR (
                                  "t28"."rate" = 1
                                )
                                THEN "t28"."amount"
                                ELSE CAST(CAST("t28"."amount" AS DOUBLE) / "t28"."rate" AS DECIMAL(38, 2))
                              END AS "value"
                            FROM (
                              SELECT
                                "t26"."account_id",
                                "t26"."month",
                                "t26"."s_plan",
                                "t26"."currency",
                                SUM("t26"."s_mrr") AS "amount",
                                MAX("t26"."r_rate") AS "rate"
                              FROM (
                                SELECT
                                  *
                                FROM "t24" AS "t25"
                                WHERE
                                  "t25"."s_mrr" > 0
                              ) AS "t26"
                              GROUP BY
                                1,
                                2,
                                3,
                                4
                            ) AS "t28"
                          ) AS "t30"
                          GROUP BY
                            1,
                            2,
                            3
                        ) AS "t31"
                      ) AS "t33"
                      WHERE
                        "t33"."_rank" = 0
                    ) AS "t36"
                      ON "t40"."account_id" = "t36"."p_account" AND "t40"."month" = "t36"."p_month"
                  ) AS "t41"
                ) AS "t42"
              ) AS "t43"
            ) AS "t44"
            WHERE
              (
                "t44"."paying" = 1
              )
              OR (
                "t44"."was_paying" = 1
              )
              OR (
                "t44"."paid_before" = 1
              )
          ) AS "t46"
          LEFT OUTER JOIN (
            SELECT
              "t0"."account_id" AS "account_key",
              "t0"."segment",
              "t0"."region",
              "t0"."industry"
            FROM "accounts" AS "t0"
          ) AS "t6"
            ON "t46"."account_id" = "t6"."account_key"
        ) AS "t47"
      ) AS "t48"
      WHERE
        "t48"."month_ts" IS NOT NULL
    ) AS "t49"
    GROUP BY
      1,
      2
  ) AS "t50"
) AS "t51"
WHERE
  "t51"."month" = "t51"."_pick";
