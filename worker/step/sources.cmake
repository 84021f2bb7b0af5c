# Executing the scheduler's steps: StepRequest in, forward pass and sampling, StepResult out.
target_sources(shoal_worker PRIVATE ${CMAKE_CURRENT_LIST_DIR}/step_executor.cc)
target_link_libraries(shoal_worker PUBLIC shoal::proto PRIVATE OpenSSL::Crypto)
