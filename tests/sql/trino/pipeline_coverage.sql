-- open_pipeline
SELECT
  "t21"."period_start",
  SUM("t21"."amount_value") AS "value"
FROM (
  SELECT
    "t20"."opportunity_id",
    "t20"."account_id",
    "t20"."owner_id",
    "t20"."name",
    "t20"."kind",
    "t20"."product",
    "t20"."pipeline",
    "t20"."stage",
    "t20"."amount",
    "t20"."currency",
    "t20"."created_at",
    "t20"."close_date",
    "t20"."closed_at",
    "t20"."is_closed",
    "t20"."is_won",
    "t20"."discount_pct",
    "t20"."loss_reason",
    "t20"."lead_source",
    "t20"."forecast_category",
    "t20"."modified_at",
    "t20"."deleted_at",
    "t20"."source",
    "t20"."segment",
    "t20"."industry",
    "t20"."region",
    "t20"."team",
    "t20"."owner_manager_id",
    "t20"."owner_name",
    "t20"."closed_on",
    "t20"."cycle_days",
    "t20"."rate_on",
    "t20"."rate",
    CASE WHEN "t20"."rate" IS NULL THEN "t20"."currency" ELSE CAST(NULL AS VARCHAR) END AS "rate_missing",
    CAST("t20"."amount" AS DOUBLE) / "t20"."rate" AS "amount_value",
    DATE_TRUNC('MONTH', "t20"."close_date") AS "period_start"
  FROM (
    SELECT
      "t19"."opportunity_id",
      "t19"."account_id",
      "t19"."owner_id",
      "t19"."name",
      "t19"."kind",
      "t19"."product",
      "t19"."pipeline",
      "t19"."stage",
      "t19"."amount",
      "t19"."currency",
      "t19"."created_at",
      "t19"."close_date",
      "t19"."closed_at",
      "t19"."is_closed",
      "t19"."is_won",
      "t19"."discount_pct",
      "t19"."loss_reason",
      "t19"."lead_source",
      "t19"."forecast_category",
      "t19"."modified_at",
      "t19"."deleted_at",
      "t19"."source",
      "t19"."segment",
      "t19"."industry",
      "t19"."region",
      "t19"."team",
      "t19"."owner_manager_id",
      "t19"."owner_name",
      "t19"."closed_on",
      "t19"."cycle_days",
      "t19"."rate_on",
      "t19"."rate"
    FROM (
      SELECT
        "t18"."opportunity_id",
        "t18"."account_id",
        "t18"."owner_id",
        "t18"."name",
        "t18"."kind",
        "t18"."product",
        "t18"."pipeline",
        "t18"."stage",
        "t18"."amount",
        "t18"."currency",
        "t18"."created_at",
        "t18"."close_date",
        "t18"."closed_at",
        "t18"."is_closed",
        "t18"."is_won",
        "t18"."discount_pct",
        "t18"."loss_reason",
        "t18"."lead_source",
        "t18"."forecast_category",
        "t18"."modified_at",
        "t18"."deleted_at",
        "t18"."source",
        "t18"."segment",
        "t18"."industry",
        "t18"."region",
        "t18"."team",
        "t18"."owner_manager_id",
        "t18"."owner_name",
        "t18"."closed_on",
        "t18"."cycle_days",
        "t18"."rate_on",
        "t18"."_d_currency",
        "t18"."_d_rate",
        "t18"."_d_from",
        "t18"."_d_until",
        "t18"."_d_latest",
        "t18"."_s_currency",
        "t18"."_s_rate",
        CASE
          WHEN "t18"."currency" = 'USD'
          THEN CAST(1.0 AS DOUBLE)
          ELSE COALESCE("t18"."_d_rate", "t18"."_s_rate")
        END AS "rate"
      FROM (
        SELECT
          "t17"."opportunity_id",
          "t17"."account_id",
          "t17"."owner_id",
          "t17"."name",
          "t17"."kind",
          "t17"."product",
          "t17"."pipeline",
          "t17"."stage",
          "t17"."amount",
          "t17"."currency",
          "t17"."created_at",
          "t17"."close_date",
          "t17"."closed_at",
          "t17"."is_closed",
          "t17"."is_won",
          "t17"."discount_pct",
          "t17"."loss_reason",
          "t17"."lead_source",
          "t17"."forecast_category",
          "t17"."modified_at",
          "t17"."deleted_at",
          "t17"."source",
          "t17"."segment",
          "t17"."industry",
          "t17"."region",
          "t17"."team",
          "t17"."owner_manager_id",
          "t17"."owner_name",
          "t17"."closed_on",
          "t17"."cycle_days",
          "t17"."rate_on",
          "t15"."_d_currency",
          "t15"."_d_rate",
          "t15"."_d_from",
          "t15"."_d_until",
          "t15"."_d_latest",
          "t11"."_s_currency",
          "t11"."_s_rate"
        FROM (
          SELECT
            "t14"."opportunity_id",
            "t14"."account_id",
            "t14"."owner_id",
            "t14"."name",
            "t14"."kind",
            "t14"."product",
            "t14"."pipeline",
            "t14"."stage",
            "t14"."amount",
            COALESCE(NULLIF(UPPER(TRIM(' 	
' FROM "t14"."currency")), ''), 'USD') AS "currency",
            "t14"."created_at",
            "t14"."close_date",
            "t14"."closed_at",
            "t14"."is_closed",
            "t14"."is_won",
            "t14"."discount_pct",
            "t14"."loss_reason",
            "t14"."lead_source",
            "t14"."forecast_category",
            "t14"."modified_at",
            "t14"."deleted_at",
            "t14"."source",
            "t14"."segment",
            "t14"."industry",
            "t14"."region",
            "t14"."team",
            "t14"."owner_manager_id",
            "t14"."owner_name",
            "t14"."closed_on",
            "t14"."cycle_days",
            "t14"."rate_on"
          FROM (
            SELECT
              "t12"."opportunity_id",
              "t12"."account_id",
              "t12"."owner_id",
              "t12"."name",
              "t12"."kind",
              "t12"."product",
              "t12"."pipeline",
              "t12"."stage",
              "t12"."amount",
              "t12"."currency",
              "t12"."created_at",
              "t12"."close_date",
              "t12"."closed_at",
              "t12"."is_closed",
              "t12"."is_won",
              "t12"."discount_pct",
              "t12"."loss_reason",
              "t12"."lead_source",
              "t12"."forecast_category",
              "t12"."modified_at",
              "t12"."deleted_at",
              "t12"."source",
              "t9"."segment",
              "t9"."industry",
              "t9"."region",
              "t10"."team",
              "t10"."owner_manager_id",
              COALESCE("t10"."owner_name", "t12"."owner_id") AS "owner_name",
              COALESCE(CAST("t12"."close_date" AS TIMESTAMP), "t12"."closed_at") AS "closed_on",
              DATE_DIFF(
                'DAY',
                DATE_TRUNC('DAY', CAST("t12"."created_at" AS DATE)),
                DATE_TRUNC('DAY', CAST("t12"."closed_at" AS DATE))
              ) AS "cycle_days",
              CASE
                WHEN "t12"."is_closed"
                THEN COALESCE("t12"."close_date", CAST("t12"."closed_at" AS DATE))
                ELSE CAST(NULL AS DATE)
              END AS "rate_on"
            FROM (
              SELECT
                *
              FROM "opportunities" AS "t1"
              WHERE
                "t1"."deleted_at" IS NULL
            ) AS "t12"
            LEFT OUTER JOIN (
              SELECT
                "t2"."account_id" AS "account_key",
                "t2"."segment",
                "t2"."industry",
                "t2"."region"
              FROM "accounts" AS "t2"
            ) AS "t9"
              ON "t12"."account_id" = "t9"."account_key"
            LEFT OUTER JOIN (
              SELECT
                "t3"."person_id" AS "person_key",
                "t3"."team",
                "t3"."name" AS "owner_name",
                "t3"."manager_id" AS "owner_manager_id"
              FROM "people" AS "t3"
            ) AS "t10"
              ON "t12"."owner_id" = "t10"."person_key"
          ) AS "t14"
        ) AS "t17"
        LEFT OUTER JOIN (
          SELECT
            "t7"."currency" AS "_d_currency",
            "t7"."rate" AS "_d_rate",
            "t7"."valid_from" AS "_d_from",
            CASE
              WHEN "t7"."valid_to" IS NULL
              THEN LEAD("t7"."valid_from") OVER (PARTITION BY "t7"."currency" ORDER BY "t7"."valid_from" ASC)
              WHEN LEAD("t7"."valid_from") OVER (PARTITION BY "t7"."currency" ORDER BY "t7"."valid_from" ASC) IS NULL
              THEN "t7"."valid_to"
              ELSE LEAST(
                "t7"."valid_to",
                LEAD("t7"."valid_from") OVER (PARTITION BY "t7"."currency" ORDER BY "t7"."valid_from" ASC)
              )
            END AS "_d_until",
            LEAD("t7"."valid_from") OVER (PARTITION BY "t7"."currency" ORDER BY "t7"."valid_from" ASC) IS NULL AS "_d_latest"
          FROM (
            SELECT
              *
            FROM "exchange_rates" AS "t0"
            WHERE
              "t0"."valid_from" IS NOT NULL
          ) AS "t7"
        ) AS "t15"
          ON "t17"."currency" = "t15"."_d_currency"
          AND (
            (
              (
                "t17"."rate_on" IS NOT NULL
              )
              AND (
                "t15"."_d_from" <= "t17"."rate_on"
              )
              AND (
                (
                  "t15"."_d_until" IS NULL
                ) OR (
                  "t17"."rate_on" < "t15"."_d_until"
                )
              )
            )
            OR (
              (
                "t17"."rate_on" IS NULL
              ) AND "t15"."_d_latest"
            )
          )
        LEFT OUTER JOIN (
          SELECT
            "t0"."currency" AS "_s_currency",
            "t0"."rate" AS "_s_rate"
          FROM "exchange_rates" AS "t0"
          WHERE
            "t0"."valid_from" IS NULL
        ) AS "t11"
          ON "t17"."currency" = "t11"."_s_currency"
      ) AS "t18"
    ) AS "t19"
  ) AS "t20"
  WHERE
    NOT (
      "t20"."is_closed"
    ) AND "t20"."close_date" IS NOT NULL
) AS "t21"
GROUP BY
  1;

-- bookings
SELECT
  "t21"."period_start",
  SUM("t21"."amount_value") AS "value"
FROM (
  SELECT
    "t20"."opportunity_id",
    "t20"."account_id",
    "t20"."owner_id",
    "t20"."name",
    "t20"."kind",
    "t20"."product",
    "t20"."pipeline",
    "t20"."stage",
    "t20"."amount",
    "t20"."currency",
    "t20"."created_at",
    "t20"."close_date",
    "t20"."closed_at",
    "t20"."is_closed",
    "t20"."is_won",
    "t20"."discount_pct",
    "t20"."loss_reason",
    "t20"."lead_source",
    "t20"."forecast_category",
    "t20"."modified_at",
    "t20"."deleted_at",
    "t20"."source",
    "t20"."segment",
    "t20"."industry",
    "t20"."region",
    "t20"."team",
    "t20"."owner_manager_id",
    "t20"."owner_name",
    "t20"."closed_on",
    "t20"."cycle_days",
    "t20"."rate_on",
    "t20"."rate",
    CASE WHEN "t20"."rate" IS NULL THEN "t20"."currency" ELSE CAST(NULL AS VARCHAR) END AS "rate_missing",
    CAST("t20"."amount" AS DOUBLE) / "t20"."rate" AS "amount_value",
    CAST(DATE_TRUNC('MONTH', "t20"."closed_on") AS DATE) AS "period_start"
  FROM (
    SELECT
      "t19"."opportunity_id",
      "t19"."account_id",
      "t19"."owner_id",
      "t19"."name",
      "t19"."kind",
      "t19"."product",
      "t19"."pipeline",
      "t19"."stage",
      "t19"."amount",
      "t19"."currency",
      "t19"."created_at",
      "t19"."close_date",
      "t19"."closed_at",
      "t19"."is_closed",
      "t19"."is_won",
      "t19"."discount_pct",
      "t19"."loss_reason",
      "t19"."lead_source",
      "t19"."forecast_category",
      "t19"."modified_at",
      "t19"."deleted_at",
      "t19"."source",
      "t19"."segment",
      "t19"."industry",
      "t19"."region",
      "t19"."team",
      "t19"."owner_manager_id",
      "t19"."owner_name",
      "t19"."closed_on",
      "t19"."cycle_days",
      "t19"."rate_on",
      "t19"."rate"
    FROM (
      SELECT
        "t18"."opportunity_id",
        "t18"."account_id",
        "t18"."owner_id",
        "t18"."name",
        "t18"."kind",
        "t18"."product",
        "t18"."pipeline",
        "t18"."stage",
        "t18"."amount",
        "t18"."currency",
        "t18"."created_at",
        "t18"."close_date",
        "t18"."closed_at",
        "t18"."is_closed",
        "t18"."is_won",
        "t18"."discount_pct",
        "t18"."loss_reason",
        "t18"."lead_source",
        "t18"."forecast_category",
        "t18"."modified_at",
        "t18"."deleted_at",
        "t18"."source",
        "t18"."segment",
        "t18"."industry",
        "t18"."region",
        "t18"."team",
        "t18"."owner_manager_id",
        "t18"."owner_name",
        "t18"."closed_on",
        "t18"."cycle_days",
        "t18"."rate_on",
        "t18"."_d_currency",
        "t18"."_d_rate",
        "t18"."_d_from",
        "t18"."_d_until",
        "t18"."_d_latest",
        "t18"."_s_currency",
        "t18"."_s_rate",
        CASE
          WHEN "t18"."currency" = 'USD'
          THEN CAST(1.0 AS DOUBLE)
          ELSE COALESCE("t18"."_d_rate", "t18"."_s_rate")
        END AS "rate"
      FROM (
        SELECT
          "t17"."opportunity_id",
          "t17"."account_id",
          "t17"."owner_id",
          "t17"."name",
          "t17"."kind",
          "t17"."product",
          "t17"."pipeline",
          "t17"."stage",
          "t17"."amount",
          "t17"."currency",
          "t17"."created_at",
          "t17"."close_date",
          "t17"."closed_at",
          "t17"."is_closed",
          "t17"."is_won",
          "t17"."discount_pct",
          "t17"."loss_reason",
          "t17"."lead_source",
          "t17"."forecast_category",
          "t17"."modified_at",
          "t17"."deleted_at",
          "t17"."source",
          "t17"."segment",
          "t17"."industry",
          "t17"."region",
          "t17"."team",
          "t17"."owner_manager_id",
          "t17"."owner_name",
          "t17"."closed_on",
          "t17"."cycle_days",
          "t17"."rate_on",
          "t15"."_d_currency",
          "t15"."_d_rate",
          "t15"."_d_from",
          "t15"."_d_until",
          "t15"."_d_latest",
          "t11"."_s_currency",
          "t11"."_s_rate"
        FROM (
          SELECT
            "t14"."opportunity_id",
            "t14"."account_id",
            "t14"."owner_id",
            "t14"."name",
            "t14"."kind",
            "t14"."product",
            "t14"."pipeline",
            "t14"."stage",
            "t14"."amount",
            COALESCE(NULLIF(UPPER(TRIM(' 	
' FROM "t14"."currency")), ''), 'USD') AS "currency",
            "t14"."created_at",
            "t14"."close_date",
            "t14"."closed_at",
            "t14"."is_closed",
            "t14"."is_won",
            "t14"."discount_pct",
            "t14"."loss_reason",
            "t14"."lead_source",
            "t14"."forecast_category",
            "t14"."modified_at",
            "t14"."deleted_at",
            "t14"."source",
            "t14"."segment",
            "t14"."industry",
            "t14"."region",
            "t14"."team",
            "t14"."owner_manager_id",
            "t14"."owner_name",
            "t14"."closed_on",
            "t14"."cycle_days",
            "t14"."rate_on"
          FROM (
            SELECT
              "t12"."opportunity_id",
              "t12"."account_id",
              "t12"."owner_id",
              "t12"."name",
              "t12"."kind",
              "t12"."product",
              "t12"."pipeline",
              "t12"."stage",
              "t12"."amount",
              "t12"."currency",
              "t12"."created_at",
              "t12"."close_date",
              "t12"."closed_at",
              "t12"."is_closed",
              "t12"."is_won",
              "t12"."discount_pct",
              "t12"."loss_reason",
              "t12"."lead_source",
              "t12"."forecast_category",
              "t12"."modified_at",
              "t12"."deleted_at",
              "t12"."source",
              "t9"."segment",
              "t9"."industry",
              "t9"."region",
              "t10"."team",
              "t10"."owner_manager_id",
              COALESCE("t10"."owner_name", "t12"."owner_id") AS "owner_name",
              COALESCE(CAST("t12"."close_date" AS TIMESTAMP), "t12"."closed_at") AS "closed_on",
              DATE_DIFF(
                'DAY',
                DATE_TRUNC('DAY', CAST("t12"."created_at" AS DATE)),
                DATE_TRUNC('DAY', CAST("t12"."closed_at" AS DATE))
              ) AS "cycle_days",
              CASE
                WHEN "t12"."is_closed"
                THEN COALESCE("t12"."close_date", CAST("t12"."closed_at" AS DATE))
                ELSE CAST(NULL AS DATE)
              END AS "rate_on"
            FROM (
              SELECT
                *
              FROM "opportunities" AS "t1"
              WHERE
                "t1"."deleted_at" IS NULL
            ) AS "t12"
            LEFT OUTER JOIN (
              SELECT
                "t2"."account_id" AS "account_key",
                "t2"."segment",
                "t2"."industry",
                "t2"."region"
              FROM "accounts" AS "t2"
            ) AS "t9"
              ON "t12"."account_id" = "t9"."account_key"
            LEFT OUTER JOIN (
              SELECT
                "t3"."person_id" AS "person_key",
                "t3"."team",
                "t3"."name" AS "owner_name",
                "t3"."manager_id" AS "owner_manager_id"
              FROM "people" AS "t3"
            ) AS "t10"
              ON "t12"."owner_id" = "t10"."person_key"
          ) AS "t14"
        ) AS "t17"
        LEFT OUTER JOIN (
          SELECT
            "t7"."currency" AS "_d_currency",
            "t7"."rate" AS "_d_rate",
            "t7"."valid_from" AS "_d_from",
            CASE
              WHEN "t7"."valid_to" IS NULL
              THEN LEAD("t7"."valid_from") OVER (PARTITION BY "t7"."currency" ORDER BY "t7"."valid_from" ASC)
              WHEN LEAD("t7"."valid_from") OVER (PARTITION BY "t7"."currency" ORDER BY "t7"."valid_from" ASC) IS NULL
              THEN "t7"."valid_to"
              ELSE LEAST(
                "t7"."valid_to",
                LEAD("t7"."valid_from") OVER (PARTITION BY "t7"."currency" ORDER BY "t7"."valid_from" ASC)
              )
            END AS "_d_until",
            LEAD("t7"."valid_from") OVER (PARTITION BY "t7"."currency" ORDER BY "t7"."valid_from" ASC) IS NULL AS "_d_latest"
          FROM (
            SELECT
              *
            FROM "exchange_rates" AS "t0"
            WHERE
              "t0"."valid_from" IS NOT NULL
          ) AS "t7"
        ) AS "t15"
          ON "t17"."currency" = "t15"."_d_currency"
          AND (
            (
              (
                "t17"."rate_on" IS NOT NULL
              )
              AND (
                "t15"."_d_from" <= "t17"."rate_on"
              )
              AND (
                (
                  "t15"."_d_until" IS NULL
                ) OR (
                  "t17"."rate_on" < "t15"."_d_until"
                )
              )
            )
            OR (
              (
                "t17"."rate_on" IS NULL
              ) AND "t15"."_d_latest"
            )
          )
        LEFT OUTER JOIN (
          SELECT
            "t0"."currency" AS "_s_currency",
            "t0"."rate" AS "_s_rate"
          FROM "exchange_rates" AS "t0"
          WHERE
            "t0"."valid_from" IS NULL
        ) AS "t11"
          ON "t17"."currency" = "t11"."_s_currency"
      ) AS "t18"
    ) AS "t19"
  ) AS "t20"
  WHERE
    "t20"."is_won" AND "t20"."closed_on" IS NOT NULL
) AS "t21"
GROUP BY
  1;
