// CHiredis: hiredis 0.14 for Swift. Use redisCommandArgv, never the variadic redisCommand.
#include </usr/include/hiredis/hiredis.h>
