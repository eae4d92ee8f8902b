SELECT
  `t7`.`period_start`,
  AVG(CAST(`t7`.`value` AS DOUBLE)) AS `value`
FROM (
  SELECT
    `t6`.`period_start`,
    `t6`.`week`,
    SUM(`t6`.`active_paying_users`) AS `value`
  FROM (
    SELECT
      `t5`.`account_id`,
      `t5`.`week`,
      `t5`.`active_paying_users`,
      `t5`.`seats`,
      `t5`.`source`,
      `t5`.`segment`,
      `t5`.`region`,
      `t5`.`week_ts`,
      CAST(DATE_TRUNC('month', `t5`.`week_ts`) AS DATE) AS `period_start`
    FROM (
      SELECT
        `t2`.`account_id`,
        `t2`.`week`,
        `t2`.`active_paying_users`,
        `t2`.`seats`,
        `t2`.`source`,
        `t4`.`segment`,
        `t4`.`region`,
        CAST(`t2`.`week` AS TIMESTAMP) AS `week_ts`
      FROM `usage` AS `t2`
      LEFT OUTER JOIN (
        SELECT
          `t1`.`account_id` AS `account_key`,
          `t1`.`segment`,
          `t1`.`region`
        FROM `accounts` AS `t1`
      ) AS `t4`
        ON `t2`.`account_id` = `t4`.`account_key`
    ) AS `t5`
    WHERE
      `t5`.`week_ts` IS NOT NULL
  ) AS `t6`
  GROUP BY
    1,
    2
) AS `t7`
GROUP BY
  1;
