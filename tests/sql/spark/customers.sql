WITH `t29` AS (
  SELECT
    `t20`.`account_id`,
    `t20`.`currency`,
    `t4`.`month`,
    `t4`.`month_end`,
    `t13`.`s_account`,
    `t13`.`s_currency`,
    `t13`.`s_start`,
    `t13`.`s_end`,
    `t13`.`s_mrr`,
    `t13`.`s_plan`,
    `t28`.`r_currency`,
    `t28`.`r_month`,
    `t28`.`r_rate`,
    `t28`.`r_missing`
  FROM (
    SELECT
      `t16`.`account_id`,
      `t16`.`currency`,
      COALESCE(`t5`.`idx`, 0) - 13 AS `from_idx`
    FROM (
      SELECT
        `t12`.`account_id`,
        `t12`.`currency`,
        MIN(`t12`.`started_at`) AS `first_day`
      FROM (
        SELECT
          `t2`.`subscription_id`,
          `t2`.`account_id`,
          `t2`.`plan`,
          `t2`.`mrr`,
          COALESCE(NULLIF(UPPER(REGEXP_REPLACE(`t2`.`currency`, '^\\s+|\\s+$', '')), ''), 'USD') AS `currency`,
          `t2`.`seats`,
          `t2`.`started_at`,
          `t2`.`ended_at`,
          `t2`.`opportunity_id`,
          `t2`.`source`
        FROM `subscriptions` AS `t2`
      ) AS `t12`
      GROUP BY
        1,
        2
    ) AS `t16`
    LEFT OUTER JOIN `ibis_pandas_memtable` AS `t5`
      ON `t5`.`month` <= `t16`.`first_day` AND `t5`.`month_end` >= `t16`.`first_day`
  ) AS `t20`
  INNER JOIN `ibis_pandas_memtable` AS `t4`
    ON `t4`.`idx` >= `t20`.`from_idx`
  LEFT OUTER JOIN (
    SELECT
      `t2`.`account_id` AS `s_account`,
      COALESCE(NULLIF(UPPER(REGEXP_REPLACE(`t2`.`currency`, '^\\s+|\\s+$', '')), ''), 'USD') AS `s_currency`,
      `t2`.`started_at` AS `s_start`,
      COALESCE(`t2`.`ended_at`, MAKE_DATE(9999, 12, 31)) AS `s_end`,
      CAST(`t2`.`mrr` AS DECIMAL(38, 2)) AS `s_mrr`,
      `t2`.`plan` AS `s_plan`
    FROM `subscriptions` AS `t2`
  ) AS `t13`
    ON `t20`.`account_id` = `t13`.`s_account`
    AND `t20`.`currency` = `t13`.`s_currency`
    AND `t13`.`s_start` <= `t4`.`month_end`
    AND `t13`.`s_end` > `t4`.`month_end`
  LEFT OUTER JOIN (
    SELECT
      `t26`.`currency` AS `r_currency`,
      `t26`.`month` AS `r_month`,
      `t26`.`rate` AS `r_rate`,
      CASE
        WHEN `t26`.`rate` IS NULL OR ISNAN(`t26`.`rate`)
        THEN `t26`.`currency`
        ELSE CAST(NULL AS STRING)
      END AS `r_missing`
    FROM (
      SELECT
        `t25`.`currency`,
        `t25`.`month`,
        `t25`.`_unit`,
        CASE
          WHEN `t25`.`currency` = 'USD'
          THEN CAST(1.0 AS DOUBLE)
          ELSE COALESCE(`t25`.`_d_rate`, `t25`.`_s_rate`)
        END AS `rate`
      FROM (
        SELECT
          `t24`.`currency`,
          `t24`.`month`,
          `t24`.`_unit`,
          `t17`.`_d_currency`,
          `t17`.`_d_rate`,
          `t17`.`_d_from`,
          `t17`.`_d_until`,
          `t17`.`_d_latest`,
          `t10`.`_s_currency`,
          `t10`.`_s_rate`
        FROM (
          SELECT
            COALESCE(NULLIF(UPPER(REGEXP_REPLACE(`t22`.`currency`, '^\\s+|\\s+$', '')), ''), 'USD') AS `currency`,
            `t22`.`month`,
            CAST(1.0 AS DOUBLE) AS `_unit`
          FROM (
            SELECT DISTINCT
              `t21`.`currency`,
              `t21`.`month`
            FROM (
              SELECT
                `t20`.`account_id`,
                `t20`.`currency`,
                `t4`.`month`,
                `t4`.`month_end`
              FROM (
                SELECT
                  `t16`.`account_id`,
                  `t16`.`currency`,
                  COALESCE(`t5`.`idx`, 0) - 13 AS `from_idx`
                FROM (
                  SELECT
                    `t12`.`account_id`,
                    `t12`.`currency`,
                    MIN(`t12`.`started_at`) AS `first_day`
                  FROM (
                    SELECT
                      `t2`.`subscription_id`,
                      `t2`.`account_id`,
                      `t2`.`plan`,
                      `t2`.`mrr`,
                      COALESCE(NULLIF(UPPER(REGEXP_REPLACE(`t2`.`currency`, '^\\s+|\\s+$', '')), ''), 'USD') AS `currency`,
                      `t2`.`seats`,
                      `t2`.`started_at`,
                      `t2`.`ended_at`,
                      `t2`.`opportunity_id`,
                      `t2`.`source`
                    FROM `subscriptions` AS `t2`
                  ) AS `t12`
                  GROUP BY
                    1,
                    2
                ) AS `t16`
                LEFT OUTER JOIN `ibis_pandas_memtable` AS `t5`
                  ON `t5`.`month` <= `t16`.`first_day` AND `t5`.`month_end` >= `t16`.`first_day`
              ) AS `t20`
              INNER JOIN `ibis_pandas_memtable` AS `t4`
                ON `t4`.`idx` >= `t20`.`from_idx`
            ) AS `t21`
          ) AS `t22`
        ) AS `t24`
        LEFT OUTER JOIN (
          SELECT
            `t9`.`currency` AS `_d_currency`,
            `t9`.`rate` AS `_d_rate`,
            `t9`.`valid_from` AS `_d_from`,
            CASE
              WHEN `t9`.`valid_to` IS NULL
              THEN LEAD(`t9`.`valid_from`) OVER (PARTITION BY `t9`.`currency` ORDER BY `t9`.`valid_from` ASC NULLS LAST)
              WHEN LEAD(`t9`.`valid_from`) OVER (PARTITION BY `t9`.`currency` ORDER BY `t9`.`valid_from` ASC NULLS LAST) IS NULL
              THEN `t9`.`valid_to`
              ELSE LEAST(
                `t9`.`valid_to`,
                LEAD(`t9`.`valid_from`) OVER (PARTITION BY `t9`.`currency` ORDER BY `t9`.`valid_from` ASC NULLS LAST)
              )
            END AS `_d_until`,
            LEAD(`t9`.`valid_from`) OVER (PARTITION BY `t9`.`currency` ORDER BY `t9`.`valid_from` ASC NULLS LAST) IS NULL AS `_d_latest`
          FROM (
            SELECT
              *
            FROM `exchange_rates` AS `t3`
            WHERE
              `t3`.`valid_from` IS NOT NULL
          ) AS `t9`
        ) AS `t17`
          ON `t24`.`currency` = `t17`.`_d_currency`
          AND (
            (
              (
                `t24`.`month` IS NOT NULL
              )
              AND (
                `t17`.`_d_from` <= `t24`.`month`
              )
              AND (
                (
                  `t17`.`_d_until` IS NULL
                ) OR (
                  `t24`.`month` < `t17`.`_d_until`
                )
              )
            )
            OR (
              (
                `t24`.`month` IS NULL
              ) AND `t17`.`_d_latest`
            )
          )
        LEFT OUTER JOIN (
          SELECT
            `t3`.`currency` AS `_s_currency`,
            `t3`.`rate` AS `_s_rate`
          FROM `exchange_rates` AS `t3`
          WHERE
            `t3`.`valid_from` IS NULL
        ) AS `t10`
          ON `t24`.`currency` = `t10`.`_s_currency`
      ) AS `t25`
    ) AS `t26`
  ) AS `t28`
    ON `t20`.`currency` = `t28`.`r_currency` AND `t4`.`month` = `t28`.`r_month`
)
SELECT
  `t56`.`period_start`,
  `t56`.`value`
FROM (
  SELECT
    `t55`.`period_start`,
    `t55`.`month`,
    `t55`.`value`,
    MAX(`t55`.`month`) OVER (
      PARTITION BY `t55`.`period_start`
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS `_pick`
  FROM (
    SELECT
      `t54`.`period_start`,
      `t54`.`month`,
      SUM(`t54`.`paying`) AS `value`
    FROM (
      SELECT
        `t53`.`account_id`,
        `t53`.`month`,
        `t53`.`mrr`,
        `t53`.`prev_mrr`,
        `t53`.`mrr_12_ago`,
        `t53`.`paying`,
        `t53`.`was_paying`,
        `t53`.`rate_missing`,
        `t53`.`fx_change`,
        `t53`.`plan`,
        `t53`.`paid_before`,
        `t53`.`movement`,
        `t53`.`change`,
        `t53`.`month_ts`,
        `t53`.`segment`,
        `t53`.`region`,
        `t53`.`industry`,
        CAST(DATE_TRUNC('month', `t53`.`month_ts`) AS DATE) AS `period_start`
      FROM (
        SELECT
          `t52`.`account_id`,
          `t52`.`month`,
          `t52`.`mrr`,
          `t52`.`prev_mrr`,
          `t52`.`mrr_12_ago`,
          `t52`.`paying`,
          `t52`.`was_paying`,
          `t52`.`rate_missing`,
          `t52`.`fx_change`,
          `t52`.`plan`,
          `t52`.`paid_before`,
          `t52`.`movement`,
          `t52`.`change`,
          `t52`.`month_ts`,
          `t52`.`segment`,
          `t52`.`region`,
          `t52`.`industry`
        FROM (
          SELECT
            `t51`.`account_id`,
            `t51`.`month`,
            `t51`.`mrr`,
            `t51`.`prev_mrr`,
            `t51`.`mrr_12_ago`,
            `t51`.`paying`,
            `t51`.`was_paying`,
            `t51`.`rate_missing`,
            `t51`.`fx_change`,
            `t51`.`plan`,
            `t51`.`paid_before`,
            `t51`.`movement`,
            `t51`.`change`,
            `t51`.`month_ts`,
            `t7`.`account_key`,
            `t7`.`segment`,
            `t7`.`region`,
            `t7`.`industry`
          FROM (
            SELECT
              `t49`.`account_id`,
              `t49`.`month`,
              `t49`.`mrr`,
              `t49`.`prev_mrr`,
              `t49`.`mrr_12_ago`,
              `t49`.`paying`,
              `t49`.`was_paying`,
              `t49`.`rate_missing`,
              `t49`.`fx_change`,
              `t49`.`plan`,
              `t49`.`paid_before`,
              CASE
                WHEN (
                  `t49`.`was_paying` = 0
                )
                AND (
                  `t49`.`paying` = 1
                )
                AND (
                  `t49`.`paid_before` = 0
                )
                THEN 'new'
                WHEN (
                  `t49`.`was_paying` = 0
                ) AND (
                  `t49`.`paying` = 1
                )
                THEN 'reactivation'
                WHEN (
                  `t49`.`was_paying` = 1
                ) AND (
                  `t49`.`paying` = 0
                )
                THEN 'churned'
                WHEN (
                  `t49`.`was_paying` = 1
                ) AND (
                  `t49`.`mrr` > `t49`.`prev_mrr`
                )
                THEN 'expansion'
                WHEN (
                  `t49`.`was_paying` = 1
                ) AND (
                  `t49`.`mrr` < `t49`.`prev_mrr`
                )
                THEN 'contraction'
                ELSE 'none'
              END AS `movement`,
              `t49`.`mrr` - `t49`.`prev_mrr` AS `change`,
              CAST(`t49`.`month` AS TIMESTAMP) AS `month_ts`
            FROM (
              SELECT
                `t48`.`account_id`,
                `t48`.`month`,
                `t48`.`mrr`,
                `t48`.`prev_mrr`,
                `t48`.`mrr_12_ago`,
                `t48`.`paying`,
                `t48`.`was_paying`,
                `t48`.`rate_missing`,
                `t48`.`fx_change`,
                `t48`.`plan`,
                MAX(`t48`.`was_paying`) OVER (
                  PARTITION BY `t48`.`account_id`
                  ORDER BY `t48`.`month` ASC NULLS LAST
                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                ) AS `paid_before`
              FROM (
                SELECT
                  `t47`.`account_id`,
                  `t47`.`month`,
                  `t47`.`mrr`,
                  `t47`.`prev_mrr`,
                  `t47`.`mrr_12_ago`,
                  `t47`.`paying`,
                  `t47`.`was_paying`,
                  `t47`.`rate_missing`,
                  `t47`.`fx_change`,
                  `t47`.`plan`
                FROM (
                  SELECT
                    `t46`.`account_id`,
                    `t46`.`month`,
                    `t46`.`mrr`,
                    `t46`.`prev_mrr`,
                    `t46`.`mrr_12_ago`,
                    `t46`.`paying`,
                    `t46`.`was_paying`,
                    `t46`.`rate_missing`,
                    `t46`.`fx_change`,
                    `t46`.`p_account`,
                    `t46`.`p_month`,
                    `t46`.`paid_plan`,
                    COALESCE(
                      `t46`.`paid_plan`,
                      LAG(`t46`.`paid_plan`) OVER (PARTITION BY `t46`.`account_id` ORDER BY `t46`.`month` ASC NULLS LAST)
                    ) AS `plan`
                  FROM (
                    SELECT
                      `t45`.`account_id`,
                      `t45`.`month`,
                      `t45`.`mrr`,
                      `t45`.`prev_mrr`,
                      `t45`.`mrr_12_ago`,
                      `t45`.`paying`,
                      `t45`.`was_paying`,
                      `t45`.`rate_missing`,
                      `t45`.`fx_change`,
                      `t41`.`p_account`,
                      `t41`.`p_month`,
                      `t41`.`paid_plan`
                    FROM (
                      SELECT
                        `t43`.`account_id`,
                        `t43`.`month`,
                        `t43`.`mrr`,
                        `t43`.`prev_mrr`,
                        `t43`.`mrr_12_ago`,
                        `t43`.`paying`,
                        `t43`.`was_paying`,
                        `t43`.`rate_missing`,
                        `t43`.`fx_change`
                      FROM (
                        SELECT
                          `t42`.`account_id`,
                          `t42`.`month`,
                          `t42`.`mrr`,
                          `t42`.`prev_mrr`,
                          `t42`.`prev_own`,
                          `t42`.`mrr_12_ago`,
                          `t42`.`paying`,
                          `t42`.`was_paying`,
                          `t42`.`rate_missing`,
                          `t42`.`prev_mrr` - `t42`.`prev_own` AS `fx_change`
                        FROM (
                          SELECT
                            `t39`.`account_id`,
                            `t39`.`month`,
                            SUM(`t39`.`mrr_c`) AS `mrr`,
                            SUM(`t39`.`prev_c`) AS `prev_mrr`,
                            SUM(`t39`.`prev_own`) AS `prev_own`,
                            SUM(`t39`.`ago_c`) AS `mrr_12_ago`,
                            MAX(IF(`t39`.`local` > 0, 1, 0)) AS `paying`,
                            MAX(IF(`t39`.`prev_local` > 0, 1, 0)) AS `was_paying`,
                            MAX(`t39`.`short`) AS `rate_missing`
                          FROM (
                            SELECT
                              `t37`.`account_id`,
                              `t37`.`currency`,
                              `t37`.`month`,
                              `t37`.`local`,
                              `t37`.`rate`,
                              `t37`.`missing`,
                              `t37`.`prev_local`,
                              `t37`.`ago_local`,
                              `t37`.`mrr_c`,
                              `t37`.`prev_c`,
                              `t37`.`ago_c`,
                              `t37`.`short`,
                              COALESCE(
                                LAG(`t37`.`mrr_c`) OVER (
                                  PARTITION BY `t37`.`account_id`, `t37`.`currency`
                                  ORDER BY `t37`.`month` ASC NULLS LAST
                                ),
                                0
                              ) AS `prev_own`
                            FROM (
                              SELECT
                                `t34`.`account_id`,
                                `t34`.`currency`,
                                `t34`.`month`,
                                `t34`.`local`,
                                `t34`.`rate`,
                                `t34`.`missing`,
                                `t34`.`prev_local`,
                                `t34`.`ago_local`,
                                CASE
                                  WHEN `t34`.`local` = 0
                                  THEN CAST(0 AS DECIMAL(38, 2))
                                  WHEN `t34`.`rate` = 1
                                  THEN `t34`.`local`
                                  ELSE CAST(CAST(CAST(`t34`.`local` AS DOUBLE) AS DOUBLE) / CAST(`t34`.`rate` AS DOUBLE) AS DECIMAL(38, 2))
                                END AS `mrr_c`,
                                CASE
                                  WHEN `t34`.`prev_local` = 0
                                  THEN CAST(0 AS DECIMAL(38, 2))
                                  WHEN `t34`.`rate` = 1
                                  THEN `t34`.`prev_local`
                                  ELSE CAST(CAST(CAST(`t34`.`prev_local` AS DOUBLE) AS DOUBLE) / CAST(`t34`.`rate` AS DOUBLE) AS DECIMAL(38, 2))
                                END AS `prev_c`,
                                CASE
                                  WHEN `t34`.`ago_local` = 0
                                  THEN CAST(0 AS DECIMAL(38, 2))
                                  WHEN `t34`.`rate` = 1
                                  THEN `t34`.`ago_local`
                                  ELSE CAST(CAST(CAST(`t34`.`ago_local` AS DOUBLE) AS DOUBLE) / CAST(`t34`.`rate` AS DOUBLE) AS DECIMAL(38, 2))
                                END AS `ago_c`,
                                CASE
                                  WHEN (
                                    `t34`.`rate` IS NULL OR ISNAN(`t34`.`rate`)
                                  )
                                  AND (
                                    (
                                      `t34`.`local` <> 0
                                    )
                                    OR (
                                      `t34`.`prev_local` <> 0
                                    )
                                    OR (
                                      COALESCE(`t34`.`ago_local`, 0) <> 0
                                    )
                                  )
                                  THEN `t34`.`missing`
                                  ELSE CAST(NULL AS STRING)
                                END AS `short`
                              FROM (
                                SELECT
                                  `t32`.`account_id`,
                                  `t32`.`currency`,
                                  `t32`.`month`,
                                  `t32`.`local`,
                                  `t32`.`rate`,
                                  `t32`.`missing`,
                                  COALESCE(
                                    LAG(`t32`.`local`) OVER (
                                      PARTITION BY `t32`.`account_id`, `t32`.`currency`
                                      ORDER BY `t32`.`month` ASC NULLS LAST
                                    ),
                                    0
                                  ) AS `prev_local`,
                                  LAG(`t32`.`local`, 12) OVER (
                                    PARTITION BY `t32`.`account_id`, `t32`.`currency`
                                    ORDER BY `t32`.`month` ASC NULLS LAST
                                  ) AS `ago_local`
                                FROM (
                                  SELECT
                                    `t30`.`account_id`,
                                    `t30`.`currency`,
                                    `t30`.`month`,
                                    COALESCE(SUM(`t30`.`s_mrr`), 0) AS `local`,
                                    MAX(`t30`.`r_rate`) AS `rate`,
                                    MAX(`t30`.`r_missing`) AS `missing`
                                  FROM `t29` AS `t30`
                                  GROUP BY
                                    1,
                                    2,
                                    3
                                ) AS `t32`
                              ) AS `t34`
                            ) AS `t37`
                          ) AS `t39`
                          GROUP BY
                            1,
                            2
                        ) AS `t42`
                      ) AS `t43`
                    ) AS `t45`
                    LEFT OUTER JOIN (
                      SELECT
                        `t38`.`account_id` AS `p_account`,
                        `t38`.`month` AS `p_month`,
                        `t38`.`s_plan` AS `paid_plan`
                      FROM (
                        SELECT
                          `t36`.`account_id`,
                          `t36`.`month`,
                          `t36`.`s_plan`,
                          `t36`.`plan_mrr`,
                          ROW_NUMBER() OVER (
                            PARTITION BY `t36`.`account_id`, `t36`.`month`
                            ORDER BY `t36`.`plan_mrr` DESC, COALESCE(`t36`.`s_plan`, '') DESC
                          ) - 1 AS `_rank`
                        FROM (
                          SELECT
                            `t35`.`account_id`,
                            `t35`.`month`,
                            `t35`.`s_plan`,
                            SUM(`t35`.`value`) AS `plan_mrr`
                          FROM (
                            SELECT
                              `t33`.`account_id`,
                              `t33`.`month`,
                              `t33`.`s_plan`,
                              `t33`.`currency`,
                              `t33`.`amount`,
                              `t33`.`rate`,
                              CASE
                                WHEN `t33`.`rate` IS NULL OR ISNAN(`t33`.`rate`) OR (
                                  `t33`.`rate` = 1
                                )
                                THEN `t33`.`amount`
                                ELSE CAST(CAST(CAST(`t33`.`amount` AS DOUBLE) AS DOUBLE) / CAST(`t33`.`rate` AS DOUBLE) AS DECIMAL(38, 2))
                              END AS `value`
                            FROM (
                              SELECT
                                `t31`.`account_id`,
                                `t31`.`month`,
                                `t31`.`s_plan`,
                                `t31`.`currency`,
                                SUM(`t31`.`s_mrr`) AS `amount`,
                                MAX(`t31`.`r_rate`) AS `rate`
                              FROM (
                                SELECT
                                  *
                                FROM `t29` AS `t30`
                                WHERE
                                  `t30`.`s_mrr` > 0
                              ) AS `t31`
                              GROUP BY
                                1,
                                2,
                                3,
                                4
                            ) AS `t33`
                          ) AS `t35`
                          GROUP BY
                            1,
                            2,
                            3
                        ) AS `t36`
                      ) AS `t38`
                      WHERE
                        `t38`.`_rank` = 0
                    ) AS `t41`
                      ON `t45`.`account_id` = `t41`.`p_account` AND `t45`.`month` = `t41`.`p_month`
                  ) AS `t46`
                ) AS `t47`
              ) AS `t48`
            ) AS `t49`
            WHERE
              (
                `t49`.`paying` = 1
              )
              OR (
                `t49`.`was_paying` = 1
              )
              OR (
                `t49`.`paid_before` = 1
              )
          ) AS `t51`
          LEFT OUTER JOIN (
            SELECT
              `t0`.`account_id` AS `account_key`,
              `t0`.`segment`,
              `t0`.`region`,
              `t0`.`industry`
            FROM `accounts` AS `t0`
          ) AS `t7`
            ON `t51`.`account_id` = `t7`.`account_key`
        ) AS `t52`
      ) AS `t53`
      WHERE
        `t53`.`month_ts` IS NOT NULL
    ) AS `t54`
    GROUP BY
      1,
      2
  ) AS `t55`
) AS `t56`
WHERE
  `t56`.`month` = `t56`.`_pick`;
