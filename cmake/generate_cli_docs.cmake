# Writes the man page and the completion scripts from the netsim just built (`netsim help`,
# scenarios/cli_doc.h): cmake -DNETSIM=... -DOUT=DIR -P generate_cli_docs.cmake.
foreach(pair "--man;netsim.1" "--completion;bash;netsim.bash" "--completion;zsh;_netsim")
  list(POP_BACK pair file)
  execute_process(COMMAND ${NETSIM} help ${pair} OUTPUT_FILE ${OUT}/${file}.tmp RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "netsim help ${pair} exited ${rc}")
  endif()
  file(RENAME ${OUT}/${file}.tmp ${OUT}/${file})
endforeach()
