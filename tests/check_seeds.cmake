# Every bundled scenario's expectations hold for every seed, not only the one in its file
# (a bound drawn too tight for one seed fails a sweep over all of them): runs `netsim check`
# over SCENARIOS with /seed set to 1..50 and fails naming each seed and scenario that failed.
set(failures "")
foreach(seed RANGE 1 50)
  execute_process(COMMAND ${NETSIM} check ${SCENARIOS} --set /seed=${seed} --progress never
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REGEX MATCHALL "(FAIL|ERROR) +[^\n]*" failed "${out}")
    string(APPEND failures "seed ${seed} (exit ${rc}): ${failed} ${err}\n")
  endif()
endforeach()
if(failures)
  message(FATAL_ERROR "bundled scenarios that do not hold for every seed:\n${failures}")
endif()
